#include "moesim/model/moe_params.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

namespace moesim::model {

MoeParams MoeParams::zeros(Eigen::Index k, Eigen::Index d) {
    return {Eigen::MatrixXd::Zero(k, d), Eigen::VectorXd::Zero(k), Eigen::MatrixXd::Zero(k, d),
            Eigen::VectorXd::Zero(k),    Eigen::VectorXd::Ones(k), 1.0};
}

void MoeParams::check() const {
    const Eigen::Index k = experts(), d = dim();
    if (k < 1 || gate_slope.rows() != k || expert_slope.rows() != k || expert_slope.cols() != d ||
        expert_bias.size() != k || variance.size() != k)
        throw core::InternalError(
            fmt::format("MoeParams: inconsistent shapes (gate {}x{}, bias {}, experts {}x{}, {}, "
                        "variance {})",
                        gate_slope.rows(), gate_slope.cols(), gate_bias.size(), expert_slope.rows(),
                        expert_slope.cols(), expert_bias.size(), variance.size()));
    if (!(variance.array() > 0.0).all())
        throw core::InternalError("MoeParams: variances must be positive");
    if (!(temperature > 0.0))
        throw core::InternalError("MoeParams: the temperature must be positive");
}

MoeParams MoeParams::permuted(const std::vector<Eigen::Index>& order) const {
    core::require(static_cast<Eigen::Index>(order.size()) == experts(),
                  "MoeParams::permuted: order must list every expert");
    MoeParams out = *this;
    for (Eigen::Index j = 0; j < experts(); ++j) {
        const Eigen::Index from = order[static_cast<std::size_t>(j)];
        out.gate_slope.row(j) = gate_slope.row(from);
        out.gate_bias(j) = gate_bias(from);
        out.expert_slope.row(j) = expert_slope.row(from);
        out.expert_bias(j) = expert_bias(from);
        out.variance(j) = variance(from);
    }
    return out;
}

MoeParams MoeParams::last_gate_zero() const {
    MoeParams out = *this;
    const Eigen::Index last = experts() - 1;
    const Eigen::RowVectorXd slope = gate_slope.row(last);
    const double bias = gate_bias(last);
    out.gate_slope.rowwise() -= slope;
    out.gate_bias.array() -= bias;
    return out;
}

} // namespace moesim::model
