#include "moesim/model/router.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim::model {

SoftmaxTopKRouter::SoftmaxTopKRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k)
    : weights_(RowMatrix::Zero(n_experts, dim)), k_(k) {
    core::require(n_experts >= 1 && k >= 1 && k <= n_experts,
                  "SoftmaxTopKRouter: need 1 <= k <= n_experts");
}

std::span<double> SoftmaxTopKRouter::parameters() noexcept {
    return {weights_.data(), static_cast<std::size_t>(weights_.size())};
}

std::span<const double> SoftmaxTopKRouter::parameters() const noexcept {
    return {weights_.data(), static_cast<std::size_t>(weights_.size())};
}

Routing SoftmaxTopKRouter::route(const RowMatrix& inputs) const {
    core::require(inputs.cols() == dim(), "SoftmaxTopKRouter::route: input width != dim");
    const Eigen::Index n = inputs.rows(), n_exp = weights_.rows();
    Routing routing;
    routing.k = k_;
    routing.cache = inputs * weights_.transpose(); // logits, then probabilities in place
    routing.expert.resize(static_cast<std::size_t>(n * k_));
    routing.gate.resize(n, k_);
    std::vector<std::int32_t> order(static_cast<std::size_t>(n_exp));
    for (Eigen::Index b = 0; b < n; ++b) {
        auto p = routing.cache.row(b);
        const double top = p.maxCoeff();
        double sum = 0.0;
        for (Eigen::Index e = 0; e < n_exp; ++e) {
            p(e) = std::exp(p(e) - top);
            sum += p(e);
        }
        p /= sum;
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::int32_t i, std::int32_t j) { return p(i) > p(j); });
        for (Eigen::Index s = 0; s < k_; ++s) {
            const std::int32_t e = order[static_cast<std::size_t>(s)];
            routing.expert[static_cast<std::size_t>(b * k_ + s)] = e;
            routing.gate(b, s) = p(e);
        }
    }
    return routing;
}

RowMatrix SoftmaxTopKRouter::logit_gradient(const Routing& routing, const RowMatrix& dgate) const {
    core::require(dgate.rows() == routing.samples() && dgate.cols() == k_,
                  "SoftmaxTopKRouter: gate gradients' shape differs from the routing's");
    // gate_s = p_{e_s}: dL/dlogit_j = sum_s dgate_s p_{e_s} (delta_{j e_s} - p_j).
    const Eigen::Index n = routing.samples(), n_exp = weights_.rows();
    RowMatrix dlogits(n, n_exp);
    for (Eigen::Index b = 0; b < n; ++b) {
        const auto p = routing.cache.row(b);
        double weighted = 0.0;
        for (Eigen::Index s = 0; s < k_; ++s)
            weighted += dgate(b, s) * routing.gate(b, s);
        for (Eigen::Index j = 0; j < n_exp; ++j)
            dlogits(b, j) = -weighted * p(j);
        for (Eigen::Index s = 0; s < k_; ++s)
            dlogits(b, routing.expert[static_cast<std::size_t>(b * k_ + s)]) +=
                dgate(b, s) * routing.gate(b, s);
    }
    return dlogits;
}

std::vector<double> SoftmaxTopKRouter::gradient(const RowMatrix& inputs, const Routing& routing,
                                                const RowMatrix& dgate) const {
    core::require(inputs.rows() == routing.samples(),
                  "SoftmaxTopKRouter::gradient: inputs differ from the routing's");
    const RowMatrix grad = logit_gradient(routing, dgate).transpose() * inputs;
    return {grad.data(), grad.data() + grad.size()};
}

RowMatrix SoftmaxTopKRouter::input_gradient(const RowMatrix& inputs, const Routing& routing,
                                            const RowMatrix& dgate) const {
    core::require(inputs.rows() == routing.samples(),
                  "SoftmaxTopKRouter::input_gradient: inputs differ from the routing's");
    return logit_gradient(routing, dgate) * weights_;
}

} // namespace moesim::model
