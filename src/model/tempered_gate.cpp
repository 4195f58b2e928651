#include "moesim/model/tempered_gate.hpp"

#include "moesim/model/row_exp.hpp"

namespace moesim::model {

Eigen::MatrixXd TemperedGate::logits(const MoeParams& params, const Eigen::MatrixXd& x,
                                     Eigen::MatrixXd* score_derivative) const {
    const Eigen::MatrixXd z = x * params.gate_slope.transpose();
    Eigen::MatrixXd out(z.rows(), z.cols());
    if (score_derivative != nullptr)
        score_derivative->resize(z.rows(), z.cols());
    double value = 0.0, derivative = 0.0;
    for (Eigen::Index i = 0; i < z.cols(); ++i)
        for (Eigen::Index m = 0; m < z.rows(); ++m) {
            score(z(m, i), value, derivative);
            out(m, i) = (value + params.gate_bias(i)) / params.temperature;
            if (score_derivative != nullptr)
                (*score_derivative)(m, i) = derivative;
        }
    return out;
}

Eigen::MatrixXd TemperedGate::log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const {
    Eigen::MatrixXd out = logits(params, x);
    log_softmax_rows(out);
    return out;
}

} // namespace moesim::model
