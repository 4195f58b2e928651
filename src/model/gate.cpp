#include "moesim/model/gate.hpp"

#include "moesim/core/error.hpp"
#include "moesim/model/row_exp.hpp"
#include "moesim/model/tempered_gate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moesim::model {

Eigen::MatrixXd SoftmaxGate::log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const {
    Eigen::MatrixXd logits = x * params.gate_slope.transpose();
    logits.rowwise() += params.gate_bias.transpose();
    log_softmax_rows(logits);
    return logits;
}

TopKGate::TopKGate(Eigen::Index top_k) : top_k_(top_k) {
    core::require(top_k >= 1, "TopKGate: K must be at least 1");
}

Eigen::MatrixXd TopKGate::log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const {
    const Eigen::Index k = params.experts();
    if (top_k_ >= k)
        return SoftmaxGate().log_weights(params, x);
    Eigen::MatrixXd logits = x * params.gate_slope.transpose();
    logits.rowwise() += params.gate_bias.transpose();
    // Expert i is in a sample's top-K set if fewer than K experts come before it: those with
    // a larger logit, or an equal one and a lower index (ties go to the lower index). Counted
    // column by column, O(n k^2) but vectorised over samples, which beats a sort per sample
    // for the small k of the rates experiment.
    const Eigen::Index n = logits.rows();
    std::vector<Eigen::ArrayXd> selected(static_cast<std::size_t>(k)); // 1 in the set, else 0
    for (Eigen::Index i = 0; i < k; ++i) {
        Eigen::ArrayXi ahead = Eigen::ArrayXi::Zero(n);
        for (Eigen::Index j = 0; j < k; ++j) {
            if (j < i)
                ahead += (logits.col(j).array() >= logits.col(i).array()).cast<int>();
            else if (j > i)
                ahead += (logits.col(j).array() > logits.col(i).array()).cast<int>();
        }
        selected[static_cast<std::size_t>(i)] = (ahead < static_cast<int>(top_k_)).cast<double>();
    }
    const Eigen::ArrayXd max = row_max(logits); // the largest logit is always selected
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(n);
    for (Eigen::Index i = 0; i < k; ++i)
        sum += (logits.col(i).array() - max).exp() * selected[static_cast<std::size_t>(i)];
    const Eigen::ArrayXd log_norm = max + sum.log();
    constexpr double off = -std::numeric_limits<double>::infinity();
    for (Eigen::Index i = 0; i < k; ++i)
        logits.col(i).array() = (selected[static_cast<std::size_t>(i)] > 0.0)
                                    .select(logits.col(i).array() - log_norm, off);
    return logits;
}

std::vector<std::string> gate_names() {
    return {"softmax", "topk", "temperature", "activation"};
}

std::unique_ptr<Gate> make_gate(std::string_view name, Eigen::Index top_k,
                                std::string_view activation) {
    if (name == "temperature")
        return std::make_unique<TemperatureGate>();
    if (name == "activation")
        return std::make_unique<ActivationGate>(parse_activation(activation));
    if (name == "softmax")
        return std::make_unique<SoftmaxGate>();
    if (name == "topk")
        return std::make_unique<TopKGate>(top_k);
    throw core::InternalError(fmt::format("make_gate: unknown gate '{}'", name));
}

} // namespace moesim::model
