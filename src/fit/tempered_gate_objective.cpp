#include "moesim/fit/tempered_gate_objective.hpp"

#include "moesim/core/error.hpp"
#include "moesim/model/row_exp.hpp"

#include <cmath>

namespace moesim::fit {

Eigen::VectorXd pack_tempered_gate(const model::MoeParams& params) {
    const Eigen::Index k = params.experts(), d = params.dim();
    Eigen::VectorXd packed((k - 1) * (d + 1) + 1);
    for (Eigen::Index i = 0; i + 1 < k; ++i) {
        packed(i * (d + 1)) = params.gate_bias(i);
        packed.segment(i * (d + 1) + 1, d) = params.gate_slope.row(i).transpose();
    }
    packed(packed.size() - 1) = std::log(params.temperature);
    return packed;
}

void unpack_tempered_gate(const Eigen::VectorXd& packed, model::MoeParams& params) {
    const Eigen::Index k = params.experts(), d = params.dim();
    core::require(packed.size() == (k - 1) * (d + 1) + 1, "unpack_tempered_gate: wrong size");
    for (Eigen::Index i = 0; i + 1 < k; ++i) {
        params.gate_bias(i) = packed(i * (d + 1));
        params.gate_slope.row(i) = packed.segment(i * (d + 1) + 1, d).transpose();
    }
    params.gate_bias(k - 1) = 0.0;
    params.gate_slope.row(k - 1).setZero();
    params.temperature = std::exp(packed(packed.size() - 1));
}

TemperedGateObjective tempered_gate_objective(const model::TemperedGate& gate,
                                              const Eigen::MatrixXd& x, const Eigen::MatrixXd& resp,
                                              const model::MoeParams& params) {
    const Eigen::Index d = x.cols(), k = params.experts();
    Eigen::MatrixXd score_derivative;
    const Eigen::MatrixXd z = gate.logits(params, x, &score_derivative);
    Eigen::MatrixXd log_g = z;
    model::log_softmax_rows(log_g);
    const Eigen::MatrixXd prob = log_g.array().exp().matrix();
    const Eigen::VectorXd weight_sum = resp.rowwise().sum();
    // g_ni = dQ/dz_ni.
    const Eigen::MatrixXd g = resp - (prob.array().colwise() * weight_sum.array()).matrix();
    const double inv_tau = 1.0 / params.temperature;

    TemperedGateObjective out;
    out.value = resp.cwiseProduct(log_g).sum();
    out.gradient.resize((k - 1) * (d + 1) + 1);
    for (Eigen::Index i = 0; i + 1 < k; ++i) {
        out.gradient(i * (d + 1)) = g.col(i).sum() * inv_tau;
        const Eigen::VectorXd coeff = g.col(i).cwiseProduct(score_derivative.col(i));
        out.gradient.segment(i * (d + 1) + 1, d) = (x.transpose() * coeff) * inv_tau;
    }
    out.gradient(out.gradient.size() - 1) = -g.cwiseProduct(z).sum();
    return out;
}

} // namespace moesim::fit
