#include "moesim/model/sigmoid_topk_router.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::model {

SigmoidTopKRouter::SigmoidTopKRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k,
                                     bool expert_bias, double scale)
    : weights_(RowMatrix::Zero(n_experts, dim)), k_(k), scale_(scale) {
    core::require(n_experts >= 1 && k >= 1 && k <= n_experts && scale > 0,
                  "SigmoidTopKRouter: need 1 <= k <= n_experts and scale > 0");
    if (expert_bias)
        bias_.assign(static_cast<std::size_t>(n_experts), 0.0);
}

std::span<double> SigmoidTopKRouter::parameters() noexcept {
    return {weights_.data(), static_cast<std::size_t>(weights_.size())};
}

std::span<const double> SigmoidTopKRouter::parameters() const noexcept {
    return {weights_.data(), static_cast<std::size_t>(weights_.size())};
}

Routing SigmoidTopKRouter::route(const RowMatrix& inputs) const {
    Routing routing;
    route_into(inputs, routing);
    return routing;
}

void SigmoidTopKRouter::route_into(const RowMatrix& inputs, Routing& routing) const {
    core::require(inputs.cols() == dim(), "SigmoidTopKRouter::route: input width != dim");
    const Eigen::Index n = inputs.rows(), n_exp = weights_.rows();
    routing.k = k_;
    routing.cache.noalias() = inputs * weights_.transpose();
    routing.expert.resize(static_cast<std::size_t>(n * k_));
    routing.gate.resize(n, k_);
    const auto bias = [&](Eigen::Index e) {
        return bias_.empty() ? 0.0 : bias_[static_cast<std::size_t>(e)];
    };
    for (Eigen::Index b = 0; b < n; ++b) {
        double* s = routing.cache.row(b).data();
        for (Eigen::Index e = 0; e < n_exp; ++e)
            s[e] = 1.0 / (1.0 + std::exp(-s[e]));
        // Top k of s + b by k passes of a strict max (ties to the lower expert id).
        std::int32_t* chosen = routing.expert.data() + b * k_;
        double kept = 0.0;
        for (Eigen::Index sl = 0; sl < k_; ++sl) {
            std::int32_t best = -1;
            for (Eigen::Index e = 0; e < n_exp; ++e) {
                if (std::find(chosen, chosen + sl, static_cast<std::int32_t>(e)) != chosen + sl)
                    continue;
                if (best < 0 || s[e] + bias(e) > s[best] + bias(best))
                    best = static_cast<std::int32_t>(e);
            }
            chosen[sl] = best;
            kept += s[best];
        }
        for (Eigen::Index sl = 0; sl < k_; ++sl)
            routing.gate(b, sl) = scale_ * s[chosen[sl]] / kept;
    }
}

RowMatrix SigmoidTopKRouter::logit_gradient(const Routing& routing, const RowMatrix& dgate) const {
    core::require(dgate.rows() == routing.samples() && dgate.cols() == k_,
                  "SigmoidTopKRouter: gate gradients' shape differs from the routing's");
    // gate_t = c s_t / S, S = sum_kept s: dL/ds_j = (c dgate_j - sum_t dgate_t gate_t) / S for
    // kept j, then dL/dlogit_j = dL/ds_j s_j (1 - s_j); zero for the experts not kept.
    const Eigen::Index n = routing.samples(), n_exp = weights_.rows();
    RowMatrix dlogits = RowMatrix::Zero(n, n_exp);
    for (Eigen::Index b = 0; b < n; ++b) {
        const auto s = routing.cache.row(b);
        double kept = 0.0, weighted = 0.0;
        for (Eigen::Index t = 0; t < k_; ++t) {
            kept += s(routing.expert[static_cast<std::size_t>(b * k_ + t)]);
            weighted += dgate(b, t) * routing.gate(b, t);
        }
        for (Eigen::Index t = 0; t < k_; ++t) {
            const auto e = routing.expert[static_cast<std::size_t>(b * k_ + t)];
            const double ds = (scale_ * dgate(b, t) - weighted) / kept;
            dlogits(b, e) = ds * s(e) * (1.0 - s(e));
        }
    }
    return dlogits;
}

std::vector<double> SigmoidTopKRouter::gradient(const RowMatrix& inputs, const Routing& routing,
                                                const RowMatrix& dgate) const {
    core::require(inputs.rows() == routing.samples() && inputs.cols() == dim(),
                  "SigmoidTopKRouter::gradient: inputs differ from the routing's");
    const RowMatrix grad = logit_gradient(routing, dgate).transpose() * inputs;
    return {grad.data(), grad.data() + grad.size()};
}

RowMatrix SigmoidTopKRouter::input_gradient(const RowMatrix& inputs, const Routing& routing,
                                            const RowMatrix& dgate) const {
    core::require(inputs.rows() == routing.samples() && inputs.cols() == dim(),
                  "SigmoidTopKRouter::input_gradient: inputs differ from the routing's");
    return logit_gradient(routing, dgate) * weights_;
}

} // namespace moesim::model
