#pragma once
// Clustered single-index data (MODELS.md section 2): cluster c uniform on {0..C-1},
// x = rho v_c + z with z ~ N(0, I_d) and orthonormal v_c, y = f_c(<w*_c, x>) + noise with
// f_c = sum_k a_{c,k} He_k / sqrt(k!). Every sample is a pure function of (seed, stream,
// global sample id), so any rank can generate any sample. Users: the sgd experiment, tests.

#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace moesim::model {

/// He_k(z) / sqrt(k!), the probabilists' Hermite polynomial normalised so that
/// E[h_j(z) h_k(z)] = delta_jk for z ~ N(0, 1). Three-term recurrence. Local.
double normalized_hermite(int k, double z) noexcept;

/// The data model's parameters.
struct ClusteredSingleIndexSpec {
    Eigen::Index dim = 64;
    int clusters = 2;
    double rho = 2.0; ///< norm of each cluster mean rho v_c
    /// clusters x orders, row-major: a_{c,k} for k = 1..orders (no constant term).
    std::vector<double> coefficients = {0.0, 1.0, 0.0, -1.0};
    /// true: one teacher direction w for all clusters (MODELS.md's default); false: one
    /// direction per cluster. Directions are orthogonal to every cluster mean.
    bool shared_direction = true;
    double label_noise = 0.0; ///< standard deviation of Gaussian label noise
};

/// A generator of clustered single-index samples. Local; const and thread-safe.
class ClusteredSingleIndex {
public:
    /// The geometry (v_c, then w*_c) comes from Gram-Schmidt on Gaussian vectors of stream
    /// "sgd.geometry" keyed by vector index. Throws core::InternalError if the coefficient
    /// count is not a multiple of `clusters` or dim is below the number of vectors needed
    /// (clusters + 1, or 2 clusters without a shared direction); configs validate first.
    ClusteredSingleIndex(std::uint64_t seed, ClusteredSingleIndexSpec spec);

    /// Samples [first_id, first_id + count) of stream `stream` ("train", "test"): inputs
    /// (count x dim), labels (count) and clusters (count). Philox key (seed,
    /// "sgd.data.<stream>"), counter (global sample id, 0, draw): draw 0 picks the cluster,
    /// draw 1 the label noise, draws 2.. the noise z. Local; a pure function of the arguments.
    void sample(const std::string& stream, std::uint64_t first_id, Eigen::Index count,
                RowMatrix& inputs, Eigen::VectorXd& labels, std::vector<int>& clusters) const;

    /// f_c(z), the noiseless link of cluster c. Local.
    double link(int cluster, double z) const noexcept;

    /// Minimal number of vectors dim must hold for `spec`.
    static Eigen::Index vectors_needed(const ClusteredSingleIndexSpec& spec) noexcept;

    const ClusteredSingleIndexSpec& spec() const noexcept { return spec_; }
    int clusters() const noexcept { return spec_.clusters; }
    int orders() const noexcept { return orders_; }
    Eigen::Index dim() const noexcept { return spec_.dim; }
    /// Unit cluster mean directions v_c, one row per cluster (C x dim).
    const RowMatrix& mean_directions() const noexcept { return means_; }
    /// Unit teacher directions w*_c, one row per cluster (C x dim; equal rows if shared).
    const RowMatrix& directions() const noexcept { return directions_; }

private:
    std::uint64_t seed_;
    ClusteredSingleIndexSpec spec_;
    int orders_;
    RowMatrix means_, directions_;
};

} // namespace moesim::model
