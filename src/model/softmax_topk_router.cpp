#include "moesim/model/softmax_topk_router.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim::model {

SoftmaxTopKRouter::SoftmaxTopKRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k)
    : SoftmaxTopKRouter(dim, n_experts, k, {}) {}

SoftmaxTopKRouter::SoftmaxTopKRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k,
                                     SoftmaxTopKOptions options)
    : weights_(RowMatrix::Zero(n_experts, dim)), k_(k), options_(options) {
    core::require(n_experts >= 1 && k >= 1 && k <= n_experts,
                  "SoftmaxTopKRouter: need 1 <= k <= n_experts");
    if (options_.expert_bias)
        bias_.assign(static_cast<std::size_t>(n_experts), 0.0);
}

std::span<double> SoftmaxTopKRouter::parameters() noexcept {
    return {weights_.data(), static_cast<std::size_t>(weights_.size())};
}

std::span<const double> SoftmaxTopKRouter::parameters() const noexcept {
    return {weights_.data(), static_cast<std::size_t>(weights_.size())};
}

Routing SoftmaxTopKRouter::route(const RowMatrix& inputs) const {
    Routing routing;
    route_into(inputs, routing);
    return routing;
}

void SoftmaxTopKRouter::route_into(const RowMatrix& inputs, Routing& routing) const {
    core::require(inputs.cols() == dim(), "SoftmaxTopKRouter::route: input width != dim");
    const Eigen::Index n = inputs.rows(), n_exp = weights_.rows();
    routing.k = k_;
    // Logits, then probabilities in place; straight into the kept matrix (no temporary).
    routing.cache.noalias() = inputs * weights_.transpose();
    routing.expert.resize(static_cast<std::size_t>(n * k_));
    routing.gate.resize(n, k_);
    for (Eigen::Index b = 0; b < n; ++b) {
        double* p = routing.cache.row(b).data(); // row-major: n_exp contiguous values
        const double top = *std::max_element(p, p + n_exp);
        double sum = 0.0;
        for (Eigen::Index e = 0; e < n_exp; ++e) {
            p[e] = std::exp(p[e] - top);
            sum += p[e];
        }
        for (Eigen::Index e = 0; e < n_exp; ++e)
            p[e] /= sum;
        // Top k by k passes of a strict max (the first maximum wins, so ties go to the lower
        // expert id): k is small, and no order vector or sort is needed.
        std::int32_t* chosen = routing.expert.data() + b * k_;
        if (bias_.empty()) {
            for (Eigen::Index s = 0; s < k_; ++s) {
                std::int32_t best = -1;
                for (Eigen::Index e = 0; e < n_exp; ++e) {
                    if (std::find(chosen, chosen + s, static_cast<std::int32_t>(e)) != chosen + s)
                        continue;
                    if (best < 0 || p[e] > p[best])
                        best = static_cast<std::int32_t>(e);
                }
                chosen[s] = best;
                routing.gate(b, s) = p[best];
            }
        } else {
            // Selection by p + b, gates from p: the bias steers the load, never the outputs.
            for (Eigen::Index s = 0; s < k_; ++s) {
                std::int32_t best = -1;
                for (Eigen::Index e = 0; e < n_exp; ++e) {
                    if (std::find(chosen, chosen + s, static_cast<std::int32_t>(e)) != chosen + s)
                        continue;
                    if (best < 0 || p[e] + bias_[static_cast<std::size_t>(e)] >
                                        p[best] + bias_[static_cast<std::size_t>(best)])
                        best = static_cast<std::int32_t>(e);
                }
                chosen[s] = best;
                routing.gate(b, s) = p[best];
            }
        }
        if (options_.renormalize) {
            double kept = 0.0;
            for (Eigen::Index s = 0; s < k_; ++s)
                kept += routing.gate(b, s);
            for (Eigen::Index s = 0; s < k_; ++s)
                routing.gate(b, s) /= kept;
        }
    }
}

RowMatrix SoftmaxTopKRouter::logit_gradient(const Routing& routing, const RowMatrix& dgate) const {
    core::require(dgate.rows() == routing.samples() && dgate.cols() == k_,
                  "SoftmaxTopKRouter: gate gradients' shape differs from the routing's");
    // gate_s = p_{e_s}: dL/dlogit_j = sum_s dgate_s p_{e_s} (delta_{j e_s} - p_j).
    const Eigen::Index n = routing.samples(), n_exp = weights_.rows();
    RowMatrix dlogits(n, n_exp);
    if (options_.renormalize) {
        // gate_s = softmax over the kept logits: dL/dlogit_{e_s} = g_s (dgate_s - sum_t
        // dgate_t g_t), zero for the experts not kept.
        dlogits.setZero();
        for (Eigen::Index b = 0; b < n; ++b) {
            double weighted = 0.0;
            for (Eigen::Index s = 0; s < k_; ++s)
                weighted += dgate(b, s) * routing.gate(b, s);
            for (Eigen::Index s = 0; s < k_; ++s)
                dlogits(b, routing.expert[static_cast<std::size_t>(b * k_ + s)]) =
                    routing.gate(b, s) * (dgate(b, s) - weighted);
        }
        return dlogits;
    }
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
    std::vector<double> grad(static_cast<std::size_t>(weights_.size()));
    RowMatrix none(0, inputs.cols()); // the parameter gradient alone
    backward_into(inputs, routing, dgate, grad, none);
    return grad;
}

RowMatrix SoftmaxTopKRouter::input_gradient(const RowMatrix& inputs, const Routing& routing,
                                            const RowMatrix& dgate) const {
    std::vector<double> unused(static_cast<std::size_t>(weights_.size()));
    RowMatrix grad(inputs.rows(), inputs.cols());
    backward_into(inputs, routing, dgate, unused, grad);
    return grad;
}

void SoftmaxTopKRouter::backward_into(const RowMatrix& inputs, const Routing& routing,
                                      const RowMatrix& dgate, std::span<double> parameter_gradient,
                                      Eigen::Ref<RowMatrix> input_gradient) const {
    const bool inputs_too = input_gradient.rows() > 0;
    core::require(inputs.rows() == routing.samples() && inputs.cols() == dim() &&
                      parameter_gradient.size() == static_cast<std::size_t>(weights_.size()) &&
                      (!inputs_too || (input_gradient.rows() == inputs.rows() &&
                                       input_gradient.cols() == inputs.cols())),
                  "SoftmaxTopKRouter::backward_into: inputs or gradient sizes differ");
    const Eigen::Index n = inputs.rows(), n_exp = weights_.rows();
    // One dL/dlogits for both products. The parameter gradient sums over the block's
    // samples: a GEMM. The input gradient sums over only n_experts terms per row: row updates
    // in a fixed order (experts ascending) beat a GEMM of depth n_experts, and their bits
    // depend on no shape or alignment, so they can go straight into the caller's rows.
    const RowMatrix dlogits = logit_gradient(routing, dgate);
    // Straight into the caller's span (no temporary matrix).
    Eigen::Map<RowMatrix> grad(parameter_gradient.data(), n_exp, inputs.cols());
    grad.noalias() = dlogits.transpose() * inputs;
    if (!inputs_too)
        return;
    // Eight columns at a time in a register across the experts, then the remainder: each
    // value is ((dl_0 w_0 + dl_1 w_1) + ...) either way.
    using Chunk = Eigen::Array<double, 8, 1>;
    const Eigen::Index d = dim();
    for (Eigen::Index b = 0; b < n; ++b) {
        double* out = input_gradient.row(b).data();
        const double* dl = dlogits.row(b).data();
        Eigen::Index i = 0;
        for (; i + 8 <= d; i += 8) {
            Chunk acc = dl[0] * Eigen::Map<const Chunk>(weights_.row(0).data() + i);
            for (Eigen::Index e = 1; e < n_exp; ++e)
                acc += dl[e] * Eigen::Map<const Chunk>(weights_.row(e).data() + i);
            Eigen::Map<Chunk>(out + i) = acc;
        }
        for (; i < d; ++i) {
            double value = dl[0] * weights_(0, i);
            for (Eigen::Index e = 1; e < n_exp; ++e)
                value += dl[e] * weights_(e, i);
            out[i] = value;
        }
    }
}

} // namespace moesim::model
