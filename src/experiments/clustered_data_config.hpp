#pragma once
// The config keys of the clustered single-index stream (MODELS.md section 2), declared,
// read and checked in one place for every experiment that trains on it (sgd, routing):
// <section>.{dim, clusters, rho, link_coefficients, shared_direction, label_noise}.

#include "moesim/core/config.hpp"
#include "moesim/model/clustered_single_index.hpp"

#include <string>
#include <vector>

namespace moesim::experiments {

/// Each experiment's own defaults for the keys; `link_note` is appended to the description
/// of link_coefficients (e.g. what its default means).
struct ClusteredDataDefaults {
    std::int64_t dim;
    std::int64_t clusters;
    std::vector<double> link_coefficients;
    std::string link_note;
    bool shared_direction;
};

/// Declares the six keys under `section`, in the order above.
core::Schema& declare_clustered_data(core::Schema& schema, const std::string& section,
                                     const ClusteredDataDefaults& defaults);

/// The stream's spec from the keys under `section`.
model::ClusteredSingleIndexSpec clustered_data_spec(const core::Config& cfg,
                                                    const std::string& section);

/// Throws core::ConfigError naming the key unless link_coefficients holds a whole number of
/// values per cluster and dim is at least the orthonormal vectors the spec needs.
void validate_clustered_data(const core::Config& cfg, const std::string& section);

} // namespace moesim::experiments
