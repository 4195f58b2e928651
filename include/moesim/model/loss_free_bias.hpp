#pragma once
// Loss-free load balancing (Wang et al. 2024; DeepSeek-V3; Megatron's
// get_updated_expert_bias): once per step, each expert's selection bias moves by a fixed
// rate towards equal loads, b_e <- b_e + rate * sign(mean_e c - c_e), from the counts c of the
// global batch. The bias enters the selection only (Router::selection_bias), never the gates,
// so no gradient interferes with the loss. Users: the routing experiment, tests.

#include <span>
#include <vector>

namespace moesim::model {

/// b_e += rate * sign(mean(load) - load_e), sign(0) = 0. `load` must be the global counts
/// (identical on every rank, e.g. MoeLayer::expert_load()), so the bias stays replicated.
/// Local.
void update_expert_bias(std::span<double> bias, const std::vector<double>& load, double rate);

} // namespace moesim::model
