#pragma once
// Convergence rates as log-log slopes: the least-squares slope of log(mean loss over
// replicates) against log n, with a percentile bootstrap confidence interval obtained by
// resampling replicates (independently for each n) with Philox-driven indices, so the
// interval is a deterministic function of the losses, the seed and the stream item.
// Users: the rates experiment.

#include <Eigen/Core>

#include <cstdint>
#include <span>

namespace moesim::fit {

/// Least-squares line through (log n_c, log mean_loss_c): y = intercept + slope * log n.
struct LogLogFit {
    double slope = 0.0;
    double intercept = 0.0;
};

/// The log-log least-squares line. Preconditions: at least two distinct n, all n and
/// mean_loss positive (a non-positive mean gives NaN). Local.
LogLogFit log_log_fit(std::span<const double> n, std::span<const double> mean_loss);

struct RateEstimate {
    double slope = 0.0;
    double intercept = 0.0;
    double ci_low = 0.0;  ///< percentile bootstrap bound, (1 - level)/2 quantile
    double ci_high = 0.0; ///< (1 + level)/2 quantile
};

struct BootstrapSettings {
    std::int64_t resamples = 1000;
    double level = 0.95;
    std::uint64_t seed = 0;
    std::uint64_t stream_item = 0; ///< distinguishes the losses of one run (Philox item)
};

/// Slope of log(mean over rows of `loss`) vs log n, for `loss` of shape replicates x n.size(),
/// and its bootstrap interval: resample b draws, for each column c, replicates
/// floor(u * R) with u from Philox (seed, "rates.bootstrap") at counter (stream_item, b,
/// c * R + r). Local; deterministic.
RateEstimate estimate_rate(std::span<const double> n, const Eigen::MatrixXd& loss,
                           const BootstrapSettings& settings);

} // namespace moesim::fit
