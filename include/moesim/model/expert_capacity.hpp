#pragma once
// Expert capacity and token dropping (Megatron-Core, DeepSpeed-MoE; MODELS.md section 5.1):
// with capacity factor c, each expert processes at most C = ceil(c * k * T / E) of the T*k
// slots of a batch of T tokens; the others are dropped (their output is zero and they carry
// no gradient). Dropless when no factor is set. Users: MoeLayer, the routing experiment, tests.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moesim::model {

/// Which of an expert's slots survive when more than C arrive (Megatron's
/// moe_token_drop_policy).
enum class DropPolicy {
    probs,   ///< keep the C largest gates (ties to the lower sample id): Megatron's default
    position ///< keep the first C tokens of the batch (lowest sample ids)
};

/// "probs" or "position"; throws core::InternalError otherwise.
DropPolicy parse_drop_policy(const std::string& name);

struct ExpertCapacity {
    std::optional<double> factor; ///< c > 0; none: dropless
    DropPolicy policy = DropPolicy::probs;

    /// C = ceil(c * k * T / E) for T tokens, k slots each, E experts; T * k when dropless.
    std::uint64_t slots(std::uint64_t tokens, std::uint64_t k, std::uint64_t experts) const;
};

/// For one expert's slots in ascending sample-id order, with their gates: which to keep so
/// that at most `capacity` remain, under `policy`. Local and deterministic.
std::vector<bool> kept_within_capacity(std::span<const double> gates, std::uint64_t capacity,
                                       DropPolicy policy);

} // namespace moesim::model
