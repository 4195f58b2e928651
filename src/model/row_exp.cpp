#include "moesim/model/row_exp.hpp"

#include <limits>

namespace moesim::model {

Eigen::ArrayXd row_max(const Eigen::MatrixXd& values) {
    Eigen::ArrayXd max = values.col(0).array();
    for (Eigen::Index i = 1; i < values.cols(); ++i)
        max = max.max(values.col(i).array());
    return max;
}

void log_softmax_rows(Eigen::MatrixXd& logits) {
    const Eigen::ArrayXd max = row_max(logits);
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(logits.rows());
    for (Eigen::Index i = 0; i < logits.cols(); ++i)
        sum += (logits.col(i).array() - max).exp();
    const Eigen::ArrayXd log_norm = max + sum.log();
    for (Eigen::Index i = 0; i < logits.cols(); ++i)
        logits.col(i).array() -= log_norm;
}

ShiftedExp exponentiate_rows(Eigen::MatrixXd& values) {
    constexpr double off = -std::numeric_limits<double>::infinity();
    ShiftedExp out{row_max(values), Eigen::ArrayXd::Zero(values.rows())};
    for (Eigen::Index i = 0; i < values.cols(); ++i) {
        auto column = values.col(i).array();
        if ((column == off).any()) {
            const Eigen::Array<bool, Eigen::Dynamic, 1> switched_off = column == off;
            column = (column - out.max).exp();
            column = switched_off.select(0.0, column);
        } else {
            column = (column - out.max).exp();
        }
        out.sum += column;
    }
    return out;
}

} // namespace moesim::model
