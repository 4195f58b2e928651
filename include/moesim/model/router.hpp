#pragma once
// The router interface of the expert-parallel MoE layer: a router maps each sample to k
// (expert, gate) slots and gives the gradient of its parameters from the gradients of the
// gates. Router parameters are small and replicated on every rank. Each router has a header
// of its own (softmax_topk_router.hpp, ...); the routing experiment adds more.
// Users: MoeLayer, the routers, the sgd and routing experiments, tests.

#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <vector>

namespace moesim::model {

/// Routing decisions for a run of samples: k slots per sample, slot 0 the largest gate.
struct Routing {
    Eigen::Index k = 1;
    std::vector<std::int32_t> expert; ///< n x k, row-major: the expert of slot s of sample b
    RowMatrix gate;                   ///< n x k: the weight of that expert's output
    RowMatrix cache;                  ///< router-specific values kept for gradient()
    Eigen::Index samples() const noexcept { return gate.rows(); }
};

/// A router. Implementations are deterministic functions of their parameters and inputs.
class Router {
public:
    virtual ~Router() = default;
    virtual std::int64_t n_experts() const noexcept = 0;
    /// Slots per sample.
    virtual Eigen::Index top_k() const noexcept = 0;
    virtual Eigen::Index dim() const noexcept = 0;

    /// The parameters, replicated on every rank, in a fixed layout.
    virtual std::span<double> parameters() noexcept = 0;
    virtual std::span<const double> parameters() const noexcept = 0;

    /// Routes every row of `inputs`. Local. Results depend on the rows passed together
    /// (Eigen picks kernels by shape): callers pass one sample block at a time.
    virtual Routing route(const RowMatrix& inputs) const = 0;

    /// As route(), into `routing`, whose storage is reused: the MoE layer routes every step.
    /// Same results as route(). The default calls route().
    virtual void route_into(const RowMatrix& inputs, Routing& routing) const {
        routing = route(inputs);
    }

    /// Per-expert biases added to the selection scores only (loss-free balancing), never to
    /// the gates; updated outside the router and replicated. Empty for routers without one.
    virtual std::span<double> selection_bias() noexcept { return {}; }
    virtual std::span<const double> selection_bias() const noexcept { return {}; }

    /// d/d(parameters) of sum_{b,s} dgate(b, s) * gate(b, s), for the rows of `inputs` and
    /// `routing` returned by route() on them. Local; same shape rule as route().
    virtual std::vector<double> gradient(const RowMatrix& inputs, const Routing& routing,
                                         const RowMatrix& dgate) const = 0;

    /// d/d(inputs) of the same sum: one row per input row. Local; same shape rule.
    virtual RowMatrix input_gradient(const RowMatrix& inputs, const Routing& routing,
                                     const RowMatrix& dgate) const = 0;

    /// gradient() into `parameter_gradient` (parameters().size() values) and input_gradient()
    /// into `input_gradient` (inputs' shape, e.g. rows of a larger matrix) at once, so that a
    /// router can share their common work. Same results as the two calls, which the default
    /// makes. An `input_gradient` of zero rows asks for the parameter gradient alone (a layer
    /// that needs no dL/dx), with the same bits.
    virtual void backward_into(const RowMatrix& inputs, const Routing& routing,
                               const RowMatrix& dgate, std::span<double> parameter_gradient,
                               Eigen::Ref<RowMatrix> input_gradient) const;
};

} // namespace moesim::model
