#include "moesim/model/moe_layer.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/par/all_gather_rows.hpp"
#include "moesim/par/deterministic_sum.hpp"
#include "moesim/par/exchange.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>

namespace moesim::model {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::uint64_t> times(const std::vector<std::uint64_t>& counts, std::uint64_t factor) {
    std::vector<std::uint64_t> out(counts);
    for (auto& c : out)
        c *= factor;
    return out;
}

} // namespace

MoeLayer::MoeLayer(boost::mpi::communicator comm, par::BlockPartition experts, Eigen::Index dim,
                   Eigen::Index hidden, Activation activation, std::unique_ptr<Router> router)
    : comm_(std::move(comm)), experts_(experts), local_(experts.items_of(comm_.rank())), dim_(dim),
      hidden_(hidden), activation_(activation), router_(std::move(router)) {
    core::require(comm_.size() == experts_.nranks(),
                  "MoeLayer: communicator size differs from the expert partition's");
    core::require(router_ &&
                      router_->n_experts() == static_cast<std::int64_t>(experts_.n_items()) &&
                      router_->dim() == dim_,
                  "MoeLayer: the router's experts or width differ from the layer's");
    const auto rows = static_cast<Eigen::Index>(local_.size()) * hidden_;
    weights_ = RowMatrix::Zero(rows, dim_);
    output_weights_ = Eigen::VectorXd::Zero(rows);
    weight_gradient_ = RowMatrix::Zero(rows, dim_);
    output_weight_gradient_ = Eigen::VectorXd::Zero(rows);
    router_gradient_.assign(router_->parameters().size(), 0.0);
    load_.assign(experts_.n_items(), 0.0);
    processed_.assign(experts_.n_items(), 0.0);
}

void MoeLayer::initialize(std::uint64_t seed, double weight_sd, double output_sd,
                          double router_sd) {
    const core::Philox rng(seed, "moe.init");
    for (std::uint64_t e = local_.begin; e < local_.end; ++e)
        for (Eigen::Index j = 0; j < hidden_; ++j) {
            const auto row = static_cast<Eigen::Index>(e - local_.begin) * hidden_ + j;
            const auto neuron = static_cast<std::uint32_t>(j);
            rng.fill_normal(
                e, neuron,
                std::span<double>(weights_.row(row).data(), static_cast<std::size_t>(dim_)), 1);
            weights_.row(row) *= weight_sd;
            output_weights_(row) = output_sd * rng.normal_pair(e, neuron, 0)[0];
        }
    const core::Philox router_rng(seed, "moe.router_init");
    const auto params = router_->parameters();
    const auto per_expert = params.size() / static_cast<std::size_t>(router_->n_experts());
    for (std::size_t e = 0; e < static_cast<std::size_t>(router_->n_experts()); ++e) {
        auto row = params.subspan(e * per_expert, per_expert);
        router_rng.fill_normal(e, 0, row);
        for (double& w : row)
            w *= router_sd;
    }
}

Eigen::VectorXd MoeLayer::forward(const par::BlockPartition& samples,
                                  const RowMatrix& local_inputs) {
    core::require(samples.nranks() == comm_.size(),
                  "MoeLayer::forward: sample partition is for another communicator size");
    const par::IdRange mine = samples.items_of(comm_.rank());
    core::require(local_inputs.rows() == static_cast<Eigen::Index>(mine.size()) &&
                      local_inputs.cols() == dim_,
                  "MoeLayer::forward: local_inputs must be n_local x dim");
    const auto n_local = static_cast<Eigen::Index>(mine.size());
    const Eigen::Index k = router_->top_k();
    const auto n_experts = static_cast<std::size_t>(experts_.n_items());
    const int nranks = comm_.size();
    const auto d = static_cast<std::size_t>(dim_);
    samples_ = samples;
    n_local_ = n_local;

    // Route one sample block at a time: the router's products have the block's shape at any
    // rank count. The block's inputs are kept for backward(). Expert loads are counted per
    // block and summed in block order.
    auto start = Clock::now();
    const par::IdRange blocks = samples.blocks_of(comm_.rank());
    block_inputs_.resize(blocks.size());
    routings_.resize(blocks.size());
    slot_expert_.resize(static_cast<std::size_t>(n_local * k));
    slot_gate_.resize(n_local, k);
    load_partials_.assign(blocks.size() * n_experts, 0.0);
    for (std::uint64_t block = blocks.begin; block < blocks.end; ++block) {
        const par::IdRange ids = samples.items_in_block(block);
        const auto first = static_cast<Eigen::Index>(ids.begin - mine.begin);
        const auto rows = static_cast<Eigen::Index>(ids.size());
        RowMatrix& block_inputs = block_inputs_[block - blocks.begin];
        block_inputs = local_inputs.middleRows(first, rows);
        Routing& routing = routings_[block - blocks.begin];
        router_->route_into(block_inputs, routing);
        double* load = load_partials_.data() + (block - blocks.begin) * n_experts;
        for (Eigen::Index b = 0; b < rows; ++b)
            for (Eigen::Index s = 0; s < k; ++s) {
                const std::int32_t e = routing.expert[static_cast<std::size_t>(b * k + s)];
                slot_expert_[static_cast<std::size_t>((first + b) * k + s)] = e;
                slot_gate_(first + b, s) = routing.gate(b, s);
                load[e] += 1.0;
            }
    }
    seconds_.route += seconds_since(start);
    start = Clock::now();
    if (expert_counts_)
        load_ = par::sum_block_partials(comm_, samples, load_partials_, n_experts);
    seconds_.reduce += seconds_since(start);

    // Dispatch: one record per slot, header then input row, to the slot's expert owner, by
    // destination rank, within a rank in (sample, slot) order. One exchange (counts, then
    // records) instead of one for headers and one for rows. With a capacity the gate travels
    // too (after the header), for the owner's drop decision.
    start = Clock::now();
    const bool capped = capacity_.factor.has_value();
    const std::size_t header_width = capped ? 3 : 2;
    const std::size_t width = header_width + d; // doubles per record
    last_capacity_ = capacity_.slots(samples.n_items(), static_cast<std::uint64_t>(k),
                                     static_cast<std::uint64_t>(n_experts));
    dispatch_counts_.assign(static_cast<std::size_t>(nranks), 0);
    for (const std::int32_t e : slot_expert_)
        ++dispatch_counts_[static_cast<std::size_t>(
            experts_.owner_of_item(static_cast<std::uint64_t>(e)))];
    next_.resize(static_cast<std::size_t>(nranks));
    std::exclusive_scan(dispatch_counts_.begin(), dispatch_counts_.end(), next_.begin(),
                        std::uint64_t{0});
    send_dispatch_.resize(slot_expert_.size() * width);
    send_position_.resize(slot_expert_.size());
    for (Eigen::Index i = 0; i < n_local; ++i)
        for (Eigen::Index s = 0; s < k; ++s) {
            const auto slot = static_cast<std::size_t>(i * k + s);
            const std::int32_t e = slot_expert_[slot];
            const std::uint64_t pos = next_[static_cast<std::size_t>(
                experts_.owner_of_item(static_cast<std::uint64_t>(e)))]++;
            send_position_[slot] = pos;
            const DispatchHeader header{mine.begin + static_cast<std::uint64_t>(i), e,
                                        static_cast<std::int32_t>(s)};
            double* record = send_dispatch_.data() + pos * width;
            std::memcpy(record, &header, sizeof header);
            if (capped)
                record[2] = slot_gate_(i, s);
            std::copy_n(local_inputs.row(i).data(), dim_, record + header_width);
        }
    counts_scaled_ = times(dispatch_counts_, width);
    par::exchange_into(comm_, std::span<const double>(send_dispatch_), counts_scaled_,
                       received_dispatch_);
    const std::vector<double>& received = received_dispatch_.records;
    received_counts_ = received_dispatch_.counts;
    for (auto& c : received_counts_) {
        core::require(c % width == 0, "MoeLayer: received a partial dispatch record");
        c /= width;
    }
    const std::size_t n_received = received.size() / width;
    auto header_of = [&](std::size_t r) {
        DispatchHeader h;
        std::memcpy(&h, received.data() + r * width, sizeof h);
        return h;
    };
    seconds_.dispatch += seconds_since(start);

    // Expert compute: each expert's batch sorted by sample id, so its rows and products do
    // not depend on which ranks the samples came from or in what order they arrived.
    start = Clock::now();
    placements_.resize(n_received);
    expert_offsets_.assign(local_.size() + 1, 0);
    for (std::size_t r = 0; r < n_received; ++r) {
        const DispatchHeader h = header_of(r);
        const auto e = static_cast<std::uint64_t>(h.expert);
        core::require(local_.contains(e), "MoeLayer: received a sample for a foreign expert");
        placements_[r] = {h.sample, h.expert, h.slot, 0};
        ++expert_offsets_[e - local_.begin + 1];
    }
    std::partial_sum(expert_offsets_.begin(), expert_offsets_.end(), expert_offsets_.begin());
    next_.assign(expert_offsets_.begin(), expert_offsets_.end() - 1);
    expert_order_.resize(n_received);
    for (std::size_t r = 0; r < n_received; ++r)
        expert_order_[next_[static_cast<std::uint64_t>(placements_[r].expert) - local_.begin]++] =
            r;
    batches_.resize(local_.size());
    for (std::size_t le = 0; le < local_.size(); ++le) {
        // Sources arrive in rank order and send in sample order, so the batch is usually
        // sorted already; sort only if not.
        const auto order_begin =
            expert_order_.begin() + static_cast<std::ptrdiff_t>(expert_offsets_[le]);
        const auto order_end =
            expert_order_.begin() + static_cast<std::ptrdiff_t>(expert_offsets_[le + 1]);
        auto by_sample = [&](std::size_t a, std::size_t b) {
            return placements_[a].sample < placements_[b].sample;
        };
        if (!std::is_sorted(order_begin, order_end, by_sample))
            std::sort(order_begin, order_end, by_sample);
        ExpertBatch& batch = batches_[le];
        const auto n_arrived = static_cast<std::size_t>(order_end - order_begin);
        // At capacity, the owner sees all of the expert's slots, in sample order: the kept
        // ones depend on the batch only.
        std::vector<bool> kept;
        if (capped) {
            std::vector<double> gates(n_arrived);
            for (std::size_t i = 0; i < n_arrived; ++i)
                gates[i] = received[order_begin[static_cast<std::ptrdiff_t>(i)] * width + 2];
            kept = kept_within_capacity(gates, last_capacity_, capacity_.policy);
        }
        const auto n_e = static_cast<Eigen::Index>(
            capped ? static_cast<std::size_t>(std::count(kept.begin(), kept.end(), true))
                   : n_arrived);
        batch.sample.resize(static_cast<std::size_t>(n_e));
        batch.inputs.resize(n_e, dim_);
        Eigen::Index row = 0;
        for (std::size_t i = 0; i < n_arrived; ++i) {
            const std::size_t r = order_begin[static_cast<std::ptrdiff_t>(i)];
            if (capped && !kept[i]) {
                placements_[r].row = -1;
                continue;
            }
            batch.sample[static_cast<std::size_t>(row)] = placements_[r].sample;
            std::copy_n(received.data() + r * width + header_width, dim_,
                        batch.inputs.row(row).data());
            placements_[r].row = row++;
        }
        const auto first = static_cast<Eigen::Index>(le) * hidden_;
        batch.pre.noalias() = batch.inputs * weights_.middleRows(first, hidden_).transpose();
        batch.activation.resize(n_e, hidden_);
        batch.derivative.resize(n_e, hidden_);
        activate_with_derivative(activation_, batch.pre.data(), batch.activation.data(),
                                 batch.derivative.data(),
                                 static_cast<std::size_t>(batch.pre.size()));
        batch.output.noalias() = batch.activation * output_weights_.segment(first, hidden_);
    }
    seconds_.expert += seconds_since(start);

    // Combine: outputs go back to the sample owners in receive order (grouped by source).
    start = Clock::now();
    std::vector<SlotValue>& replies = send_values_;
    replies.resize(n_received);
    for (std::size_t r = 0; r < n_received; ++r) {
        const Placement& p = placements_[r];
        const auto le =
            static_cast<std::size_t>(static_cast<std::uint64_t>(p.expert) - local_.begin);
        replies[r] = {p.sample, p.expert, p.slot, p.row < 0 ? 0.0 : batches_[le].output(p.row)};
    }
    par::exchange_into(comm_, std::span<const SlotValue>(replies), received_counts_,
                       dispatch_counts_, received_values_);
    const auto& back = received_values_;
    core::require(back.records.size() == slot_expert_.size(),
                  "MoeLayer: combine returned a wrong number of slots");
    slot_output_.resize(n_local, k);
    for (const auto& v : back.records)
        slot_output_(static_cast<Eigen::Index>(v.sample - mine.begin), v.slot) = v.value;
    Eigen::VectorXd output(n_local);
    for (Eigen::Index i = 0; i < n_local; ++i) {
        double sum = 0.0;
        for (Eigen::Index s = 0; s < k; ++s)
            sum += slot_gate_(i, s) * slot_output_(i, s);
        output(i) = sum;
    }
    seconds_.combine += seconds_since(start);

    start = Clock::now();
    if (!expert_counts_) {
        // Skipped on request (set_expert_counts): the counts stay those of an earlier forward.
    } else if (capped) {
        std::vector<double> local_processed(local_.size());
        for (std::size_t le = 0; le < local_.size(); ++le)
            local_processed[le] = static_cast<double>(batches_[le].sample.size());
        processed_ = par::all_gather_rows(comm_, experts_, local_processed, 1);
    } else {
        processed_ = load_;
    }
    seconds_.reduce += seconds_since(start);
    return output;
}

void MoeLayer::backward(const Eigen::VectorXd& dloss) {
    core::require(samples_.has_value() && dloss.size() == n_local_,
                  "MoeLayer::backward: call forward() first, with one dloss per local sample");
    const par::BlockPartition& samples = *samples_;
    const par::IdRange mine = samples.items_of(comm_.rank());
    const Eigen::Index n_local = n_local_, k = router_->top_k();

    // Router: per sample block, then summed in block order.
    auto start = Clock::now();
    dgate_ = slot_output_.array().colwise() * dloss.array();
    const std::size_t n_params = router_->parameters().size();
    const par::IdRange blocks = samples.blocks_of(comm_.rank());
    router_partials_.resize(blocks.size() * n_params);
    if (input_gradient_on_)
        input_gradient_.resize(n_local, dim_);
    else
        input_gradient_.resize(0, 0);
    for (std::uint64_t block = blocks.begin; block < blocks.end; ++block) {
        const par::IdRange ids = samples.items_in_block(block);
        const auto first = static_cast<Eigen::Index>(ids.begin - mine.begin);
        const auto rows = static_cast<Eigen::Index>(ids.size());
        block_dgate_ = dgate_.middleRows(first, rows);
        if (!input_gradient_on_)
            block_input_gradient_.resize(0, dim_); // the router's parameter gradient alone
        router_->backward_into(
            block_inputs_[block - blocks.begin], routings_[block - blocks.begin], block_dgate_,
            std::span<double>(router_partials_)
                .subspan((block - blocks.begin) * n_params, n_params),
            input_gradient_on_ ? Eigen::Ref<RowMatrix>(input_gradient_.middleRows(first, rows))
                               : Eigen::Ref<RowMatrix>(block_input_gradient_));
    }
    router_gradient_ = par::sum_block_partials(comm_, samples, router_partials_, n_params);
    seconds_.reduce += seconds_since(start);

    // Output gradients dL/dh = dloss * gate to the expert owners, in the forward's layout,
    // so they arrive in the forward's receive order.
    start = Clock::now();
    std::vector<SlotValue>& send = send_values_;
    send.resize(slot_expert_.size());
    for (Eigen::Index i = 0; i < n_local; ++i)
        for (Eigen::Index s = 0; s < k; ++s) {
            const auto slot = static_cast<std::size_t>(i * k + s);
            send[send_position_[slot]] = {mine.begin + static_cast<std::uint64_t>(i),
                                          slot_expert_[slot], static_cast<std::int32_t>(s),
                                          dloss(i) * slot_gate_(i, s)};
        }
    par::exchange_into(comm_, std::span<const SlotValue>(send), dispatch_counts_, received_counts_,
                       received_values_);
    const auto& received = received_values_;
    seconds_.dispatch += seconds_since(start);

    start = Clock::now();
    for (auto& batch : batches_)
        batch.output_gradient.setZero(static_cast<Eigen::Index>(batch.sample.size()));
    for (std::size_t r = 0; r < received.records.size(); ++r) {
        const auto& v = received.records[r];
        const Placement& p = placements_[r];
        core::require(v.sample == p.sample && v.expert == p.expert,
                      "MoeLayer::backward: a gradient arrived for another slot");
        if (p.row < 0)
            continue; // dropped at capacity
        batches_[static_cast<std::uint64_t>(v.expert) - local_.begin].output_gradient(p.row) =
            v.value;
    }
    // Over each expert's whole id-sorted batch, as in forward().
    for (std::size_t le = 0; le < batches_.size(); ++le) {
        ExpertBatch& batch = batches_[le];
        const auto first = static_cast<Eigen::Index>(le) * hidden_;
        const auto a = output_weights_.segment(first, hidden_);
        Eigen::MatrixXd& pre_gradient = batch.pre; // the pre-activations are no longer needed
        pre_gradient =
            (batch.derivative.array().colwise() * batch.output_gradient.array()).rowwise() *
            a.transpose().array();
        weight_gradient_.middleRows(first, hidden_).noalias() =
            pre_gradient.transpose() * batch.inputs;
        output_weight_gradient_.segment(first, hidden_).noalias() =
            batch.activation.transpose() * batch.output_gradient;
        if (input_gradient_on_)
            batch.input_gradient.noalias() = pre_gradient * weights_.middleRows(first, hidden_);
    }
    seconds_.expert += seconds_since(start);
    if (!input_gradient_on_)
        return;

    // Input gradients back to the sample owners in receive order. Each source rank gets back
    // as many rows as it dispatched to this rank, in its dispatch order, so the rows land at
    // the slots' dispatch positions (send_position_).
    start = Clock::now();
    const auto d = static_cast<std::size_t>(dim_);
    std::vector<double>& rows = send_rows_;
    rows.resize(placements_.size() * d);
    for (std::size_t r = 0; r < placements_.size(); ++r) {
        const Placement& p = placements_[r];
        const auto& batch = batches_[static_cast<std::uint64_t>(p.expert) - local_.begin];
        if (p.row < 0)
            std::fill_n(rows.data() + r * d, dim_, 0.0);
        else
            std::copy_n(batch.input_gradient.row(p.row).data(), dim_, rows.data() + r * d);
    }
    counts_scaled_ = times(received_counts_, d);
    counts_scaled_back_ = times(dispatch_counts_, d);
    par::exchange_into(comm_, std::span<const double>(rows), counts_scaled_, counts_scaled_back_,
                       received_rows_);
    const auto& back = received_rows_;
    core::require(back.records.size() == slot_expert_.size() * d,
                  "MoeLayer::backward: input gradients came back for a wrong number of slots");
    for (Eigen::Index i = 0; i < n_local; ++i)
        for (Eigen::Index s = 0; s < k; ++s) {
            const std::uint64_t pos = send_position_[static_cast<std::size_t>(i * k + s)];
            input_gradient_.row(i) +=
                Eigen::Map<const Eigen::RowVectorXd>(back.records.data() + pos * d, dim_);
        }
    seconds_.combine += seconds_since(start);
}

std::vector<std::int32_t> MoeLayer::top_expert() const {
    const Eigen::Index k = router_->top_k();
    std::vector<std::int32_t> top(static_cast<std::size_t>(slot_gate_.rows()));
    for (std::size_t i = 0; i < top.size(); ++i)
        top[i] = slot_expert_[i * static_cast<std::size_t>(k)];
    return top;
}

} // namespace moesim::model
