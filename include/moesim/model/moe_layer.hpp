#pragma once
// The expert-parallel mixture-of-experts layer: y(x) = sum_s gate_s(x) h_{e_s}(x) over the
// router's k slots, experts h_e(x) = sum_j a_ej sigma(<w_ej, x>) sharded over ranks by a
// BlockPartition over expert ids. Forward: route (per sample block) -> dispatch (one
// par::exchange of records = sample header + input row, to the experts' owners) -> expert compute
// over each expert's whole id-sorted batch -> combine (exchange back, gate-weighted sum). Backward:
// output gradients go to the owners by the same exchange layout, expert gradients stay
// there, router gradients are summed over sample blocks with par::sum_block_partials. Every
// shape depends on the batch and the routing only, so results are bitwise independent of
// the rank count; the input gradients of the experts come back by the reverse exchange, so
// the layer can sit inside a deeper model (set_input_gradient(false) skips them). Users: the sgd
// experiment, the routing experiment, tests.

#include "moesim/model/activation.hpp"
#include "moesim/model/expert_capacity.hpp"
#include "moesim/model/router.hpp"
#include "moesim/model/row_matrix.hpp"
#include "moesim/par/block_partition.hpp"
#include "moesim/par/exchange.hpp"

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace moesim::model {

/// Wall-clock seconds spent in each phase of the layer, accumulated until reset.
struct MoePhaseSeconds {
    double route = 0;    ///< router forward (per sample block)
    double dispatch = 0; ///< exchanges towards the experts (forward and backward)
    double expert = 0;   ///< expert forward and gradient compute
    double combine = 0;  ///< exchange back and gate-weighted sum
    double reduce = 0;   ///< router gradient and expert load sums
};

/// Expert-parallel MoE layer with replicated router and sharded experts.
class MoeLayer {
public:
    /// `comm.size()` must equal `experts.nranks()`; `router` must have experts.n_items()
    /// experts and width `dim`. Expert weights start at zero. Throws core::InternalError
    /// otherwise.
    MoeLayer(boost::mpi::communicator comm, par::BlockPartition experts, Eigen::Index dim,
             Eigen::Index hidden, Activation activation, std::unique_ptr<Router> router);

    /// w_ej ~ N(0, weight_sd^2 I) and a_ej ~ N(0, output_sd^2) from stream "moe.init", counter
    /// (global expert id, neuron j, draw); router parameters ~ N(0, router_sd^2) from stream
    /// "moe.router_init". Local; independent of the rank count.
    void initialize(std::uint64_t seed, double weight_sd, double output_sd, double router_sd);

    /// Layer outputs for this rank's samples: `local_inputs` holds the rows of
    /// samples.items_of(rank) in id order (sample ids are positions in the batch). Caches
    /// what backward() needs. Collective over comm (ranks with no samples or no experts take
    /// part); bitwise independent of the rank count for fixed sample and expert block sizes.
    Eigen::VectorXd forward(const par::BlockPartition& samples, const RowMatrix& local_inputs);

    /// Gradients of sum_b dloss_b * y_b (dloss: this rank's samples, as in forward()) with
    /// respect to the local experts' parameters, the router's and this rank's inputs: output
    /// gradients go to the experts' owners (exchange), input gradients come back (exchange).
    /// Uses the last forward(). Collective; bitwise independent of the rank count.
    void backward(const Eigen::VectorXd& dloss);

    const par::BlockPartition& expert_partition() const noexcept { return experts_; }
    /// Global ids of this rank's experts.
    par::IdRange local_experts() const noexcept { return local_; }
    Eigen::Index dim() const noexcept { return dim_; }
    Eigen::Index hidden() const noexcept { return hidden_; }

    /// First-layer weights of the local experts: row (e - local_experts().begin) * hidden + j
    /// is w_ej. Output weights a_ej in the same order.
    RowMatrix& expert_weights() noexcept { return weights_; }
    const RowMatrix& expert_weights() const noexcept { return weights_; }
    Eigen::VectorXd& expert_output_weights() noexcept { return output_weights_; }
    const Eigen::VectorXd& expert_output_weights() const noexcept { return output_weights_; }
    Router& router() noexcept { return *router_; }
    const Router& router() const noexcept { return *router_; }

    /// Gradients from the last backward(), laid out as the parameters they belong to.
    const RowMatrix& expert_weight_gradient() const noexcept { return weight_gradient_; }
    const Eigen::VectorXd& expert_output_weight_gradient() const noexcept {
        return output_weight_gradient_;
    }
    /// Replicated, laid out as router().parameters().
    const std::vector<double>& router_gradient() const noexcept { return router_gradient_; }
    /// d/dx of the last backward()'s sum for this rank's samples (n_local x dim), through the
    /// router and the experts; empty (0 x 0) when input gradients are off.
    const RowMatrix& input_gradient() const noexcept { return input_gradient_; }

    /// Whether backward() forms input_gradient() (on by default). A model whose layer sits on
    /// its data (the sgd experiment, the benchmark) turns it off: the experts' input products
    /// (a third of their flops), the reverse exchange of B k dim values and their sums are
    /// skipped. Parameter gradients are unchanged, bit for bit.
    void set_input_gradient(bool on) noexcept { input_gradient_on_ = on; }
    bool input_gradient_on() const noexcept { return input_gradient_on_; }
    /// Off: forward() skips the two collectives that count expert_load() and
    /// expert_processed(), which then still hold the counts of the last forward() that made
    /// them (for forward passes whose counts nobody reads). Outputs and gradients are the same
    /// bits either way. On by default.
    void set_expert_counts(bool on) noexcept { expert_counts_ = on; }

    /// Slots routed to each expert in the last forward(), all experts, same on every rank
    /// (before any capacity dropping).
    const std::vector<double>& expert_load() const noexcept { return load_; }

    /// Caps each expert's slots per forward() at capacity.slots(batch, k, E) (dropless by
    /// default). A dropped slot's expert output is zero, so it adds nothing to the layer
    /// output and gets no gradient. Which slots drop depends on the whole batch only (each
    /// expert's owner sees all of its slots), so results stay independent of the rank count.
    void set_capacity(ExpertCapacity capacity) { capacity_ = capacity; }
    const ExpertCapacity& capacity() const noexcept { return capacity_; }
    /// Slots each expert processed in the last forward(), after dropping; all experts, same
    /// on every rank (equal to expert_load() when dropless).
    const std::vector<double>& expert_processed() const noexcept { return processed_; }
    /// The per-expert capacity C of the last forward().
    std::uint64_t last_capacity() const noexcept { return last_capacity_; }
    /// The top-gate expert of each local sample in the last forward().
    std::vector<std::int32_t> top_expert() const;

    MoePhaseSeconds& phase_seconds() noexcept { return seconds_; }

private:
    // Dispatch header of one (sample, slot). It travels in front of the slot's input row in
    // one record of 2 + dim doubles, so a dispatch is a single exchange.
    struct DispatchHeader {
        std::uint64_t sample;
        std::int32_t expert;
        std::int32_t slot;
    };
    static_assert(sizeof(DispatchHeader) == 2 * sizeof(double));
    // An expert output (combine) or an output gradient (backward dispatch) of one slot.
    struct SlotValue {
        std::uint64_t sample;
        std::int32_t expert;
        std::int32_t slot;
        double value;
    };
    // One local expert's id-sorted batch from the last forward().
    struct ExpertBatch {
        std::vector<std::uint64_t> sample; // sorted sample ids
        RowMatrix inputs;                  // n_e x dim
        Eigen::MatrixXd pre;               // n_e x hidden: <w_j, x>, then dL/d<w_j, x>
        Eigen::MatrixXd activation;        // n_e x hidden: sigma(<w_j, x>)
        Eigen::MatrixXd derivative;        // n_e x hidden: sigma'(<w_j, x>)
        Eigen::VectorXd output;            // n_e
        Eigen::VectorXd output_gradient;   // n_e (backward)
        RowMatrix input_gradient;          // n_e x dim (backward)
    };
    // Where a dispatched slot went: its header as received, its expert batch and row (-1 if
    // dropped at capacity).
    struct Placement {
        std::uint64_t sample;
        std::int32_t expert;
        std::int32_t slot;
        Eigen::Index row;
    };

    boost::mpi::communicator comm_;
    par::BlockPartition experts_;
    par::IdRange local_;
    Eigen::Index dim_, hidden_;
    Activation activation_;
    std::unique_ptr<Router> router_;
    RowMatrix weights_;
    Eigen::VectorXd output_weights_;
    RowMatrix weight_gradient_;
    Eigen::VectorXd output_weight_gradient_;
    std::vector<double> router_gradient_, load_, processed_;
    ExpertCapacity capacity_;
    bool expert_counts_ = true;
    std::uint64_t last_capacity_ = 0;
    RowMatrix input_gradient_;
    bool input_gradient_on_ = true;
    RowMatrix block_input_gradient_; // zero rows: the router forms no input gradient

    // Cache of the last forward() on the sample side.
    std::optional<par::BlockPartition> samples_;
    Eigen::Index n_local_ = 0;
    std::vector<RowMatrix> block_inputs_;        // the inputs, one matrix per local block
    std::vector<Routing> routings_;              // one per local sample block
    std::vector<std::int32_t> slot_expert_;      // n_local x k
    RowMatrix slot_gate_, slot_output_;          // n_local x k
    std::vector<std::uint64_t> send_position_;   // n_local x k: index in the dispatch buffer
    std::vector<std::uint64_t> dispatch_counts_; // per destination rank
    // ... and on the expert side.
    std::vector<ExpertBatch> batches_;  // one per local expert
    std::vector<Placement> placements_; // per received slot, in receive order
    std::vector<std::uint64_t> received_counts_;
    MoePhaseSeconds seconds_;
    // Buffers kept across calls: a step allocates nothing once the routing has settled
    // (fresh large buffers cost a page fault per page on first touch).
    std::vector<double> load_partials_, router_partials_;
    RowMatrix dgate_, block_dgate_;
    std::vector<std::uint64_t> next_, expert_offsets_, counts_scaled_, counts_scaled_back_;
    std::vector<std::size_t> expert_order_;
    std::vector<double> send_dispatch_; // DispatchHeader + input row per slot
    std::vector<SlotValue> send_values_;
    std::vector<double> send_rows_;
    par::Received<double> received_dispatch_;
    par::Received<SlotValue> received_values_;
    par::Received<double> received_rows_;
};

} // namespace moesim::model
