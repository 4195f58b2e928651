#include "experiments/clustered_data_config.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

namespace moesim::experiments {

core::Schema& declare_clustered_data(core::Schema& schema, const std::string& section,
                                     const ClusteredDataDefaults& defaults) {
    return schema.integer(section + ".dim", defaults.dim, 2, 1 << 20, "input dimension d")
        .integer(section + ".clusters", defaults.clusters, 1, 1 << 10, "number of clusters C")
        .real(section + ".rho", 3.0, 0.0, 1e6, "norm of each cluster mean rho v_c")
        .real_array(section + ".link_coefficients", defaults.link_coefficients, -1e6, 1e6, 1,
                    "a_{c,k} for k = 1..K, cluster after cluster (C*K values): f_c = sum_k "
                    "a_{c,k} He_k/sqrt(k!)" +
                        defaults.link_note)
        .boolean(section + ".shared_direction", defaults.shared_direction,
                 "one teacher direction w for all clusters (else one per cluster)")
        .real(section + ".label_noise", 0.0, 0.0, 1e6, "standard deviation of label noise");
}

model::ClusteredSingleIndexSpec clustered_data_spec(const core::Config& cfg,
                                                    const std::string& section) {
    return {.dim = static_cast<Eigen::Index>(cfg.integer(section + ".dim")),
            .clusters = static_cast<int>(cfg.integer(section + ".clusters")),
            .rho = cfg.real(section + ".rho"),
            .coefficients = cfg.real_array(section + ".link_coefficients"),
            .shared_direction = cfg.boolean(section + ".shared_direction"),
            .label_noise = cfg.real(section + ".label_noise")};
}

void validate_clustered_data(const core::Config& cfg, const std::string& section) {
    const model::ClusteredSingleIndexSpec spec = clustered_data_spec(cfg, section);
    const std::string links = section + ".link_coefficients", dim = section + ".dim";
    if (spec.coefficients.size() % static_cast<std::size_t>(spec.clusters) != 0)
        throw core::ConfigError({cfg.origin(links)}, links,
                                fmt::format("has {} values, not a multiple of {}.clusters = {}",
                                            spec.coefficients.size(), section, spec.clusters));
    const auto needed = model::ClusteredSingleIndex::vectors_needed(spec);
    if (spec.dim < needed)
        throw core::ConfigError({cfg.origin(dim)}, dim,
                                fmt::format("is {}, below the {} orthonormal vectors the "
                                            "clusters and directions need",
                                            spec.dim, needed));
}

} // namespace moesim::experiments
