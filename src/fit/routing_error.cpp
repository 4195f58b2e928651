#include "moesim/fit/routing_error.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace moesim::fit {

namespace {

Eigen::Index winner(const model::MoeParams& p, double x) {
    Eigen::Index best = 0;
    double top = -std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < p.experts(); ++j) {
        const double logit = p.gate_slope(j, 0) * x + p.gate_bias(j);
        if (logit > top) { // strict: ties go to the lower index
            top = logit;
            best = j;
        }
    }
    return best;
}

void add_crossings(const model::MoeParams& p, std::vector<double>& out) {
    for (Eigen::Index j = 0; j < p.experts(); ++j)
        for (Eigen::Index l = j + 1; l < p.experts(); ++l) {
            const double slope = p.gate_slope(j, 0) - p.gate_slope(l, 0);
            if (slope != 0.0)
                out.push_back(-(p.gate_bias(j) - p.gate_bias(l)) / slope);
        }
}

double normal_cdf(double z) {
    return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

} // namespace

double top1_routing_error(const model::MoeParams& fitted, const std::vector<Eigen::Index>& cell,
                          const model::MoeParams& truth, double x_scale) {
    core::require(fitted.dim() == 1 && truth.dim() == 1,
                  "top1_routing_error: defined for d = 1 only");
    core::require(cell.size() == static_cast<std::size_t>(fitted.experts()),
                  "top1_routing_error: one cell per fitted expert");
    // Between consecutive crossings every winner is constant: test each piece at one point.
    std::vector<double> cuts;
    add_crossings(fitted, cuts);
    add_crossings(truth, cuts);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    const double inf = std::numeric_limits<double>::infinity();
    cuts.insert(cuts.begin(), -inf);
    cuts.push_back(inf);
    double error = 0.0;
    for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
        const double lo = cuts[p], hi = cuts[p + 1];
        const double inside = std::isinf(lo) && std::isinf(hi) ? 0.0
                              : std::isinf(lo)                 ? hi - 1.0
                              : std::isinf(hi)                 ? lo + 1.0
                                                               : 0.5 * (lo + hi);
        if (cell[static_cast<std::size_t>(winner(fitted, inside))] != winner(truth, inside))
            error += normal_cdf(hi / x_scale) - normal_cdf(lo / x_scale);
    }
    return error;
}

} // namespace moesim::fit
