#include "moesim/model/expert_capacity.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim::model {

DropPolicy parse_drop_policy(const std::string& name) {
    if (name == "probs")
        return DropPolicy::probs;
    if (name == "position")
        return DropPolicy::position;
    throw core::InternalError("unknown token drop policy '" + name + "'");
}

std::uint64_t ExpertCapacity::slots(std::uint64_t tokens, std::uint64_t k,
                                    std::uint64_t experts) const {
    if (!factor)
        return tokens * k;
    return static_cast<std::uint64_t>(std::ceil(*factor * static_cast<double>(k) *
                                                 static_cast<double>(tokens) /
                                                 static_cast<double>(experts)));
}

std::vector<bool> kept_within_capacity(std::span<const double> gates, std::uint64_t capacity,
                                       DropPolicy policy) {
    const std::size_t n = gates.size();
    std::vector<bool> kept(n, true);
    if (n <= capacity)
        return kept;
    if (policy == DropPolicy::position) {
        std::fill(kept.begin() + static_cast<std::ptrdiff_t>(capacity), kept.end(), false);
        return kept;
    }
    // The C largest gates; equal gates to the earlier (lower sample id) slot, so the choice
    // is a function of the batch alone.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return gates[a] > gates[b]; });
    std::fill(kept.begin(), kept.end(), false);
    for (std::size_t i = 0; i < capacity; ++i)
        kept[order[i]] = true;
    return kept;
}

} // namespace moesim::model
