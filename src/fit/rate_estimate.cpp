#include "moesim/fit/rate_estimate.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace moesim::fit {

namespace {

// Linear interpolation between order statistics (type 7, as numpy's default).
double quantile(std::vector<double> sorted, double q) {
    const double at = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(at));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

} // namespace

LogLogFit log_log_fit(std::span<const double> n, std::span<const double> mean_loss) {
    core::require(n.size() == mean_loss.size() && n.size() >= 2,
                  "log_log_fit: need at least two (n, loss) points");
    const auto count = static_cast<double>(n.size());
    double mean_x = 0.0, mean_y = 0.0;
    for (std::size_t c = 0; c < n.size(); ++c) {
        mean_x += std::log(n[c]);
        mean_y += std::log(mean_loss[c]);
    }
    mean_x /= count;
    mean_y /= count;
    double sxx = 0.0, sxy = 0.0;
    for (std::size_t c = 0; c < n.size(); ++c) {
        const double dx = std::log(n[c]) - mean_x;
        sxx += dx * dx;
        sxy += dx * (std::log(mean_loss[c]) - mean_y);
    }
    core::require(sxx > 0.0, "log_log_fit: n values must not all be equal");
    LogLogFit fit;
    fit.slope = sxy / sxx;
    fit.intercept = mean_y - fit.slope * mean_x;
    return fit;
}

RateEstimate estimate_rate(std::span<const double> n, const Eigen::MatrixXd& loss,
                           const BootstrapSettings& settings) {
    const Eigen::Index replicates = loss.rows();
    core::require(loss.cols() == static_cast<Eigen::Index>(n.size()) && replicates >= 1,
                  "estimate_rate: loss must be replicates x n.size()");
    core::require(settings.resamples >= 1 && settings.level > 0.0 && settings.level < 1.0,
                  "estimate_rate: bad bootstrap settings");
    std::vector<double> means(n.size());
    for (std::size_t c = 0; c < n.size(); ++c)
        means[c] = loss.col(static_cast<Eigen::Index>(c)).mean();
    const LogLogFit point = log_log_fit(n, means);

    const core::Philox rng(settings.seed, "rates.bootstrap");
    std::vector<double> slopes;
    slopes.reserve(static_cast<std::size_t>(settings.resamples));
    for (std::int64_t b = 0; b < settings.resamples; ++b) {
        for (std::size_t c = 0; c < n.size(); ++c) {
            double sum = 0.0;
            for (Eigen::Index r = 0; r < replicates; ++r) {
                const auto draw = static_cast<std::uint32_t>(
                    c * static_cast<std::size_t>(replicates) + static_cast<std::size_t>(r));
                const double u =
                    rng.uniform_pair(settings.stream_item, static_cast<std::uint32_t>(b), draw)[0];
                const auto pick = std::min<Eigen::Index>(
                    replicates - 1, static_cast<Eigen::Index>(u * static_cast<double>(replicates)));
                sum += loss(pick, static_cast<Eigen::Index>(c));
            }
            means[c] = sum / static_cast<double>(replicates);
        }
        slopes.push_back(log_log_fit(n, means).slope);
    }
    // NaN slopes (a resample with a non-positive mean) sort last and widen the upper bound.
    std::sort(slopes.begin(), slopes.end(), [](double a, double b) {
        return std::isnan(b) ? !std::isnan(a) : (!std::isnan(a) && a < b);
    });
    RateEstimate out;
    out.slope = point.slope;
    out.intercept = point.intercept;
    out.ci_low = quantile(slopes, 0.5 * (1.0 - settings.level));
    out.ci_high = quantile(slopes, 0.5 * (1.0 + settings.level));
    return out;
}

} // namespace moesim::fit
