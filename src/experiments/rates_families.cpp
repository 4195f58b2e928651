// The families of the rates experiment (one line each) and the readers of shared keys.

#include "experiments/rates_family.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

namespace moesim::experiments::rates {

// Each family's entry, defined in its own file.
FamilyEntry gaussian_moe_family();
FamilyEntry contaminated_family();
FamilyEntry sigmoid_moe_family();

const std::vector<FamilyEntry>& families() {
    static const std::vector<FamilyEntry> all = {
        gaussian_moe_family(),
        contaminated_family(),
        sigmoid_moe_family(),
    };
    return all;
}

std::vector<std::string> gate_names() {
    std::vector<std::string> names;
    for (const auto& family : families())
        names.insert(names.end(), family.gates.begin(), family.gates.end());
    return names;
}

const FamilyEntry& family_of(std::string_view gate) {
    for (const auto& family : families())
        for (const auto& name : family.gates)
            if (name == gate)
                return family;
    throw core::InternalError(fmt::format("no rates family fits gate '{}'", gate));
}

model::MoeParams true_moe_params(const core::Config& cfg, Eigen::Index k, Eigen::Index d) {
    model::MoeParams p = model::MoeParams::zeros(k, d);
    auto read = [&](const char* key, Eigen::Index per_expert) {
        const auto& values = cfg.real_array(key);
        if (static_cast<Eigen::Index>(values.size()) != k * per_expert)
            throw core::ConfigError(
                {cfg.origin(key)}, key,
                fmt::format("has {} values, expected {} (k_true = {}{})", values.size(),
                            k * per_expert, k,
                            per_expert > 1 ? fmt::format(" times dim = {}", d) : ""));
        return values;
    };
    const auto gate_slope = read("rates.gate_slope", d);
    const auto gate_bias = read("rates.gate_bias", 1);
    const auto expert_slope = read("rates.expert_slope", d);
    const auto expert_bias = read("rates.expert_bias", 1);
    const auto variance = read("rates.variance", 1);
    for (Eigen::Index i = 0; i < k; ++i) {
        for (Eigen::Index c = 0; c < d; ++c) {
            p.gate_slope(i, c) = gate_slope[static_cast<std::size_t>(i * d + c)];
            p.expert_slope(i, c) = expert_slope[static_cast<std::size_t>(i * d + c)];
        }
        p.gate_bias(i) = gate_bias[static_cast<std::size_t>(i)];
        p.expert_bias(i) = expert_bias[static_cast<std::size_t>(i)];
        p.variance(i) = variance[static_cast<std::size_t>(i)];
    }
    return p;
}

fit::EmSettings em_settings(const core::Config& cfg) {
    fit::EmSettings em;
    em.tolerance = cfg.real("rates.tolerance");
    em.max_iterations = cfg.integer("rates.max_iterations");
    em.restarts = cfg.integer("rates.restarts");
    em.init = fit::parse_em_init(cfg.string("rates.init"));
    em.init_noise = cfg.real("rates.init_noise");
    em.init_noise_exponent = cfg.real("rates.init_noise_exponent");
    return em;
}

} // namespace moesim::experiments::rates
