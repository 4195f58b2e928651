#include "moesim/model/clustered_single_index.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/model/orthonormal_rows.hpp"

#include <cmath>

namespace moesim::model {

double normalized_hermite(int k, double z) noexcept {
    // h_{k+1} = (z h_k - sqrt(k) h_{k-1}) / sqrt(k+1), from He_{k+1} = z He_k - k He_{k-1}.
    if (k <= 0)
        return 1.0;
    double previous = 1.0, current = z;
    for (int n = 1; n < k; ++n) {
        const double next = (z * current - std::sqrt(static_cast<double>(n)) * previous) /
                            std::sqrt(static_cast<double>(n + 1));
        previous = current;
        current = next;
    }
    return current;
}

Eigen::Index ClusteredSingleIndex::vectors_needed(const ClusteredSingleIndexSpec& spec) noexcept {
    return spec.clusters + (spec.shared_direction ? 1 : spec.clusters);
}

ClusteredSingleIndex::ClusteredSingleIndex(std::uint64_t seed, ClusteredSingleIndexSpec spec)
    : seed_(seed), spec_(std::move(spec)), orders_(0) {
    core::require(spec_.clusters >= 1, "ClusteredSingleIndex: need at least one cluster");
    const auto n_coefficients = static_cast<int>(spec_.coefficients.size());
    core::require(n_coefficients > 0 && n_coefficients % spec_.clusters == 0,
                  "ClusteredSingleIndex: coefficient count is not a multiple of the clusters");
    orders_ = n_coefficients / spec_.clusters;
    const Eigen::Index n_vectors = vectors_needed(spec_);
    core::require(spec_.dim >= n_vectors, "ClusteredSingleIndex: dim below the vectors needed");

    // The same geometry on every rank.
    const RowMatrix basis =
        orthonormal_gaussian_rows(core::Philox(seed_, "sgd.geometry"), n_vectors, spec_.dim);
    means_ = basis.topRows(spec_.clusters);
    directions_.resize(spec_.clusters, spec_.dim);
    for (int c = 0; c < spec_.clusters; ++c)
        directions_.row(c) = basis.row(spec_.clusters + (spec_.shared_direction ? 0 : c));
}

double ClusteredSingleIndex::link(int cluster, double z) const noexcept {
    const double* a = spec_.coefficients.data() + static_cast<std::size_t>(cluster * orders_);
    double value = 0.0;
    for (int k = 1; k <= orders_; ++k)
        if (a[k - 1] != 0.0)
            value += a[k - 1] * normalized_hermite(k, z);
    return value;
}

void ClusteredSingleIndex::sample(const std::string& stream, std::uint64_t first_id,
                                  Eigen::Index count, RowMatrix& inputs, Eigen::VectorXd& labels,
                                  std::vector<int>& clusters) const {
    const core::Philox rng(seed_, "sgd.data." + stream);
    const Eigen::Index d = spec_.dim;
    inputs.resize(count, d);
    labels.resize(count);
    clusters.resize(static_cast<std::size_t>(count));
    for (Eigen::Index b = 0; b < count; ++b) {
        const std::uint64_t id = first_id + static_cast<std::uint64_t>(b);
        const double u = rng.uniform_pair(id, 0, 0)[0];
        const int c = std::min(spec_.clusters - 1, static_cast<int>(u * spec_.clusters));
        clusters[static_cast<std::size_t>(b)] = c;
        rng.fill_normal(id, 0, std::span<double>(inputs.row(b).data(), static_cast<std::size_t>(d)),
                        2);
        inputs.row(b) += spec_.rho * means_.row(c);
        // Row by row: a one-row dot product has the same bits whatever `count` is.
        const double z = inputs.row(b).dot(directions_.row(c));
        labels(b) = link(c, z);
        if (spec_.label_noise > 0)
            labels(b) += spec_.label_noise * rng.normal_pair(id, 0, 1)[0];
    }
}

} // namespace moesim::model
