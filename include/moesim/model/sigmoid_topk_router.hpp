#pragma once
// The sigmoid top-k router of DeepSeek-V3: per-expert scores s_e = sigmoid(w_e . x), the k
// largest of s + b selected (b: an optional loss-free selection bias, updated outside), gates
// s_e / sum_{kept} s times a scale (Megatron's moe_router_topk_scaling_factor). With k = 1 the
// gate is the constant scale, so the loss does not train the router (DeepSeek uses k > 1).
// Users: the routing experiment, tests.

#include "moesim/model/router.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <vector>

namespace moesim::model {

class SigmoidTopKRouter final : public Router {
public:
    /// Zero weights (all scores 1/2), zero bias. Throws core::InternalError unless
    /// 1 <= k <= n_experts and scale > 0.
    SigmoidTopKRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k, bool expert_bias,
                      double scale = 1.0);

    std::int64_t n_experts() const noexcept override { return weights_.rows(); }
    Eigen::Index top_k() const noexcept override { return k_; }
    Eigen::Index dim() const noexcept override { return weights_.cols(); }
    std::span<double> parameters() noexcept override;
    std::span<const double> parameters() const noexcept override;
    std::span<double> selection_bias() noexcept override { return bias_; }
    std::span<const double> selection_bias() const noexcept override { return bias_; }
    Routing route(const RowMatrix& inputs) const override;
    void route_into(const RowMatrix& inputs, Routing& routing) const override;
    std::vector<double> gradient(const RowMatrix& inputs, const Routing& routing,
                                 const RowMatrix& dgate) const override;
    RowMatrix input_gradient(const RowMatrix& inputs, const Routing& routing,
                             const RowMatrix& dgate) const override;

    /// One row per expert; parameters() is this matrix, row-major.
    RowMatrix& weights() noexcept { return weights_; }
    const RowMatrix& weights() const noexcept { return weights_; }

private:
    // dL/dlogits for each row, from the gate gradients (routing.cache holds the scores).
    RowMatrix logit_gradient(const Routing& routing, const RowMatrix& dgate) const;
    RowMatrix weights_;
    Eigen::Index k_;
    double scale_;
    std::vector<double> bias_; // n_experts with a bias, else empty
};

} // namespace moesim::model
