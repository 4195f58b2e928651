#pragma once
// The softmax top-k router (Switch Transformer, Megatron's "pre-softmax" top-k): linear
// logits, softmax over all experts, the k largest probabilities kept as gates without
// renormalising, so even top-1 routing trains the router; optionally renormalised over the k
// kept (Mixtral, Megatron's default) and with a loss-free selection bias (Wang et al. 2024).
// Users: the sgd and routing experiments, tests, benchmarks.

#include "moesim/model/router.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <vector>

namespace moesim::model {

/// The variants of the softmax top-k router beyond Switch's.
struct SoftmaxTopKOptions {
    /// Gates p_e / sum_{kept} p (softmax over the k kept logits, Mixtral) instead of p_e.
    bool renormalize = false;
    /// A per-expert selection bias b (loss-free balancing): the top k of p + b are kept, the
    /// gates still come from p. Starts at zero.
    bool expert_bias = false;
};

/// Softmax over linear logits W_r x (n_experts x dim), keeping the k largest probabilities
/// (ties to the lower expert id) as gates, not renormalised: gate = softmax(W_r x)_e, so
/// top-1 routing still trains the router (Switch Transformer). k = n_experts is the dense
/// softmax gate.
class SoftmaxTopKRouter final : public Router {
public:
    /// Zero weights (uniform probabilities). Throws core::InternalError unless
    /// 1 <= k <= n_experts.
    SoftmaxTopKRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k);
    SoftmaxTopKRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k,
                      SoftmaxTopKOptions options);

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
    void backward_into(const RowMatrix& inputs, const Routing& routing, const RowMatrix& dgate,
                       std::span<double> parameter_gradient,
                       Eigen::Ref<RowMatrix> input_gradient) const override;

    /// W_r, one row per expert; parameters() is this matrix, row-major.
    RowMatrix& weights() noexcept { return weights_; }
    const RowMatrix& weights() const noexcept { return weights_; }

private:
    // dL/dlogits for each row, from the gate gradients.
    RowMatrix logit_gradient(const Routing& routing, const RowMatrix& dgate) const;
    RowMatrix weights_;
    Eigen::Index k_;
    SoftmaxTopKOptions options_;
    std::vector<double> bias_; // n_experts with options_.expert_bias, else empty
};

} // namespace moesim::model
