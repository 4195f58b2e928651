// The families of the rates experiment (one line each) and the readers of shared keys.

#include "experiments/rates_family.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

#include <algorithm>

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

Eigen::MatrixXd read_expert_rows(const core::Config& cfg, const char* key, Eigen::Index k,
                                 Eigen::Index per_expert) {
    const auto& values = cfg.real_array(key);
    if (static_cast<Eigen::Index>(values.size()) != k * per_expert)
        throw core::ConfigError(
            {cfg.origin(key)}, key,
            fmt::format("has {} values, expected {} (k_true = {}{})", values.size(),
                        k * per_expert, k,
                        per_expert > 1 ? fmt::format(" times dim = {}", per_expert) : ""));
    return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        values.data(), k, per_expert);
}

model::MoeParams true_moe_params(const core::Config& cfg, Eigen::Index k, Eigen::Index d) {
    model::MoeParams p = model::MoeParams::zeros(k, d);
    p.gate_slope = read_expert_rows(cfg, "rates.gate_slope", k, d);
    p.gate_bias = read_expert_rows(cfg, "rates.gate_bias", k, 1);
    p.expert_slope = read_expert_rows(cfg, "rates.expert_slope", k, d);
    p.expert_bias = read_expert_rows(cfg, "rates.expert_bias", k, 1);
    p.variance = read_expert_rows(cfg, "rates.variance", k, 1);
    return p;
}

void drop_loss(std::vector<std::string>& names, const std::string& name) {
    std::erase(names, name);
}

void drop_loss(const std::vector<std::string>& names, const std::string& name,
               std::vector<double>& values) {
    const auto at = std::find(names.begin(), names.end(), name);
    if (at != names.end())
        values.erase(values.begin() + (at - names.begin()));
}

model::ExpertFunction expert_function(const core::Config& cfg, const char* key) {
    return {model::parse_expert_kind(cfg.string(key)),
            static_cast<int>(cfg.integer("rates.expert_degree"))};
}

fit::EmSettings em_settings(const core::Config& cfg) {
    fit::EmSettings em;
    em.tolerance = cfg.real("rates.tolerance");
    em.max_iterations = cfg.integer("rates.max_iterations");
    em.restarts = cfg.integer("rates.restarts");
    em.init = fit::parse_em_init(cfg.string("rates.init"));
    em.init_noise = cfg.real("rates.init_noise");
    em.init_noise_exponent = cfg.real("rates.init_noise_exponent");
    em.expert_mean = expert_function(cfg, "rates.expert_mean");
    em.expert_mean_steps = cfg.integer("rates.expert_mean_steps");
    em.fit_expert_bias = cfg.boolean("rates.fit_expert_bias");
    if (!em.fit_expert_bias && em.init != fit::EmInit::near_truth)
        throw core::ConfigError({cfg.origin("rates.fit_expert_bias")}, "rates.fit_expert_bias",
                                "false holds the biases at the truth's, which needs "
                                "init = \"near_truth\"");
    return em;
}

} // namespace moesim::experiments::rates
