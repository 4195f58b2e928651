#include "moesim/fit/kmeans.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace moesim::fit {

namespace {

// Rows are processed in blocks small enough that a block's coordinates and distances stay in
// L1/L2 between the distance, assignment and accumulation loops.
constexpr Eigen::Index block_rows = 256;

// Squared distances of rows [begin, begin + len) to every centre (column c of `dist`) and each
// row's nearest centre. Coordinates are summed in order 0 .. p-1, exactly as a row-wise
// squaredNorm of (centre - row) sums them, and ties go to the lowest index with a strict <,
// as Eigen's minCoeff(&index) does: the rates experiment's k-means++ init, which was written
// that way, keeps its results bit for bit.
class BlockAssigner {
public:
    BlockAssigner(const Eigen::MatrixXd& points, const Eigen::MatrixXd& centres)
        : points_(points), centres_(centres),
          dist_(std::min(block_rows, points.rows()), centres.rows()), best_(dist_.rows()),
          label_(static_cast<std::size_t>(dist_.rows())) {}

    void assign(Eigen::Index begin, Eigen::Index len) {
        const Eigen::Index k = centres_.rows(), p = points_.cols();
        for (Eigen::Index c = 0; c < k; ++c) {
            auto d = dist_.col(c).head(len).array();
            d = (points_.col(0).segment(begin, len).array() - centres_(c, 0)).square();
            for (Eigen::Index j = 1; j < p; ++j)
                d += (points_.col(j).segment(begin, len).array() - centres_(c, j)).square();
        }
        double* best = best_.data();
        ClusterLabel* label = label_.data();
        const double* d0 = dist_.col(0).data();
        for (Eigen::Index m = 0; m < len; ++m) {
            best[m] = d0[m];
            label[m] = 0;
        }
        // Unconditional stores, so the loop vectorises.
        for (Eigen::Index c = 1; c < k; ++c) {
            const double* dc = dist_.col(c).data();
            for (Eigen::Index m = 0; m < len; ++m) {
                const bool nearer = dc[m] < best[m];
                best[m] = nearer ? dc[m] : best[m];
                label[m] = nearer ? static_cast<ClusterLabel>(c) : label[m];
            }
        }
    }
    ClusterLabel label(Eigen::Index m) const { return label_[static_cast<std::size_t>(m)]; }
    const ClusterLabel* labels() const { return label_.data(); }
    double best_sum(Eigen::Index len) const { return best_.head(len).sum(); }

private:
    const Eigen::MatrixXd& points_;
    const Eigen::MatrixXd& centres_;
    Eigen::MatrixXd dist_;
    Eigen::ArrayXd best_;
    std::vector<ClusterLabel> label_;
};

// Squared distance of every row of `points` to `centre`, coordinates summed in order.
Eigen::VectorXd squared_distances(const Eigen::MatrixXd& points, const Eigen::RowVectorXd& centre) {
    Eigen::ArrayXd out = (points.col(0).array() - centre(0)).square();
    for (Eigen::Index j = 1; j < points.cols(); ++j)
        out += (points.col(j).array() - centre(j)).square();
    return out.matrix();
}

// Inverse CDF over the rows in order: the first row whose cumulative weight exceeds u * total.
Eigen::Index pick(const Eigen::VectorXd& weights, double u) {
    const Eigen::Index n = weights.size();
    const double target = u * weights.sum();
    double cumulative = 0.0;
    for (Eigen::Index m = 0; m < n; ++m) {
        cumulative += weights(m);
        if (target < cumulative)
            return m;
    }
    return n - 1;
}

} // namespace

Eigen::MatrixXd kmeans_pp_seeds(const Eigen::MatrixXd& points, Eigen::Index k,
                                const UniformDraw& uniform) {
    const Eigen::Index n = points.rows();
    core::require(k >= 1 && n >= k && points.cols() >= 1,
                  "kmeans_pp_seeds: needs 1 <= k <= rows and at least one column");
    Eigen::MatrixXd centres(k, points.cols());
    centres.row(0) = points.row(pick(Eigen::VectorXd::Ones(n), uniform(0)));
    Eigen::VectorXd dist2 = squared_distances(points, centres.row(0));
    for (Eigen::Index c = 1; c < k; ++c) {
        centres.row(c) = points.row(pick(dist2, uniform(static_cast<std::uint32_t>(c))));
        dist2 = dist2.cwiseMin(squared_distances(points, centres.row(c)));
    }
    return centres;
}

LloydResult lloyd(const Eigen::MatrixXd& points, const Eigen::MatrixXd& initial_centres,
                  const LloydSettings& settings) {
    const Eigen::Index n = points.rows(), p = points.cols(), k = initial_centres.rows();
    core::require(n >= 1 && p >= 1 && k >= 1 && initial_centres.cols() == p,
                  "lloyd: needs rows, and k >= 1 centres of the points' width");
    core::require(k <= std::numeric_limits<ClusterLabel>::max(), "lloyd: too many centres");
    core::require(settings.max_iterations >= 1, "lloyd: max_iterations must be >= 1");
    LloydResult out;
    out.centres = initial_centres;
    // -1 is no centre: the first assignment changes every label.
    out.labels.assign(static_cast<std::size_t>(n), -1);
    BlockAssigner assigner(points, out.centres);
    std::vector<double> sums(static_cast<std::size_t>(k * p));
    std::vector<double> counts(static_cast<std::size_t>(k));
    std::vector<Eigen::Index> tally(static_cast<std::size_t>(k));
    Eigen::ArrayXd mask(std::min(block_rows, n));
    const double* x = points.data();
    for (std::int64_t iteration = 1;; ++iteration) {
        std::fill(sums.begin(), sums.end(), 0.0);
        std::fill(tally.begin(), tally.end(), Eigen::Index{0});
        Eigen::Index changed = 0;
        double objective = 0.0;
        for (Eigen::Index begin = 0; begin < n; begin += block_rows) {
            const Eigen::Index len = std::min(block_rows, n - begin);
            assigner.assign(begin, len);
            objective += assigner.best_sum(len);
            ClusterLabel* label = out.labels.data() + begin;
            const ClusterLabel* fresh = assigner.labels();
            for (Eigen::Index m = 0; m < len; ++m) {
                changed += label[m] != fresh[m];
                label[m] = fresh[m];
            }
            if (settings.row_order_sums) {
                // Each centre's sums run over its rows in row order, one row at a time.
                for (Eigen::Index m = 0; m < len; ++m) {
                    const Eigen::Index row = begin + m, c = label[m];
                    double* sum = sums.data() + c * p;
                    for (Eigen::Index j = 0; j < p; ++j)
                        sum[j] += x[j * n + row];
                }
            } else {
                // Per block and coordinate, the dot product of a 0/1 mask with the block's
                // rows (vectorised, its order fixed by the block size), added to the sums.
                for (Eigen::Index c = 0; c < k; ++c) {
                    for (Eigen::Index m = 0; m < len; ++m)
                        mask[m] = label[m] == c ? 1.0 : 0.0;
                    double* sum = sums.data() + c * p;
                    for (Eigen::Index j = 0; j < p; ++j)
                        sum[j] += (mask.head(len) *
                                   Eigen::Map<const Eigen::ArrayXd>(x + j * n + begin, len))
                                      .sum();
                }
            }
            // Counts are integers, exact in any order.
            for (Eigen::Index m = 0; m < len; ++m)
                ++tally[static_cast<std::size_t>(label[m])];
        }
        for (Eigen::Index c = 0; c < k; ++c)
            counts[static_cast<std::size_t>(c)] = double(tally[static_cast<std::size_t>(c)]);
        out.iterations = iteration;
        out.objective = objective;
        out.objective_trace.push_back(objective);
        if (changed == 0) {
            out.converged = true;
            break;
        }
        double shift = 0.0;
        for (Eigen::Index c = 0; c < k; ++c) {
            const double count = counts[static_cast<std::size_t>(c)];
            if (!(count > 0.0))
                continue;
            for (Eigen::Index j = 0; j < p; ++j) {
                const double moved = sums[static_cast<std::size_t>(c * p + j)] / count;
                shift += (moved - out.centres(c, j)) * (moved - out.centres(c, j));
                out.centres(c, j) = moved;
            }
        }
        if (shift <= settings.tolerance) {
            out.converged = true;
            break;
        }
        if (iteration >= settings.max_iterations)
            break;
    }
    return out;
}

std::vector<ClusterLabel> nearest_centres(const Eigen::MatrixXd& points,
                                          const Eigen::MatrixXd& centres) {
    const Eigen::Index n = points.rows();
    core::require(centres.rows() >= 1 && centres.cols() == points.cols(),
                  "nearest_centres: centres must have the points' width");
    std::vector<ClusterLabel> labels(static_cast<std::size_t>(n));
    if (n == 0)
        return labels;
    BlockAssigner assigner(points, centres);
    for (Eigen::Index begin = 0; begin < n; begin += block_rows) {
        const Eigen::Index len = std::min(block_rows, n - begin);
        assigner.assign(begin, len);
        for (Eigen::Index m = 0; m < len; ++m)
            labels[static_cast<std::size_t>(begin + m)] = assigner.label(m);
    }
    return labels;
}

} // namespace moesim::fit
