#pragma once
// k-means: k-means++ seeding (Arthur & Vassilvitskii 2007) and Lloyd's algorithm on the rows
// of an n x p matrix. The randomness of the seeding is an injected uniform draw, so each
// caller keys it its own way (rates: Philox (seed, "rates.init") at (job, restart, draw)).
// Users: fit::initial_params (k-means++ init of the MoE EM) and the misspec experiment's
// hard-assignment fit (the tau -> 0 limit of fixed-variance EM).

#include <Eigen/Core>

#include <cstdint>
#include <functional>
#include <vector>

namespace moesim::fit {

/// A row's cluster index. 32 bits: at large n and small p the labels are a large part of a
/// Lloyd iteration's memory traffic.
using ClusterLabel = std::int32_t;

/// A uniform draw on (0, 1) for draw index `draw`; must be a pure function of `draw`.
using UniformDraw = std::function<double(std::uint32_t draw)>;

/// k-means++ seeds (k x p) from the rows of `points` (n x p): centre 0 a uniformly chosen
/// row, centre c a row chosen with probability proportional to its squared distance from the
/// nearest centre so far; each by inverse CDF over the rows in order on draw c (draws 0 ..
/// k-1).
/// Local; a pure function of its arguments. Throws InternalError unless 1 <= k <= n.
Eigen::MatrixXd kmeans_pp_seeds(const Eigen::MatrixXd& points, Eigen::Index k,
                                const UniformDraw& uniform);

struct LloydSettings {
    std::int64_t max_iterations = 300; ///< assignment steps at most (>= 1)
    /// Also converged when the centres moved by sum_c ||c_new - c_old||^2 <= tolerance in one
    /// update (absolute, in squared units of the points; scikit-learn's rule after it scales
    /// its `tol` by the mean per-feature variance). 0: stop on exact stillness only.
    double tolerance = 0.0;
    /// Centre sums one row at a time in row order: the arithmetic of the k-means++ init that
    /// fit::initial_params used to write inline, kept bit for bit for the rates experiment.
    /// Otherwise per block of rows by vectorised masked sums (a fixed order too, so still a
    /// pure function of the arguments, and several times faster at large n).
    bool row_order_sums = false;
};

struct LloydResult {
    Eigen::MatrixXd centres;             ///< k x p: the means of the clusters given by `labels`
    std::vector<ClusterLabel> labels;    ///< n: nearest centre (first on ties) at the last step
    std::int64_t iterations = 0;         ///< assignment steps taken
    bool converged = false;              ///< labels unchanged, or shift <= tolerance
    double objective = 0.0;              ///< sum of squared distances at the last assignment
    std::vector<double> objective_trace; ///< the same after every assignment: non-increasing
};

/// Lloyd's algorithm from `initial_centres` (k x p). An iteration assigns every row to its
/// nearest centre (squared Euclidean distance, the lowest index on ties), then moves each
/// centre to the mean of its rows; a centre that loses all its rows stays where it is. Stops
/// when an assignment changes no label (the update would change nothing, so it is skipped:
/// centres and labels are then an exact fixed point), when an update moves the centres by at
/// most settings.tolerance, or after settings.max_iterations assignments. Sums run in a fixed
/// order (see row_order_sums), so the result is a pure function of the arguments. Local. Throws
/// InternalError on shape mismatch, no rows, more than 2^31 - 1 centres or max_iterations < 1.
LloydResult lloyd(const Eigen::MatrixXd& points, const Eigen::MatrixXd& initial_centres,
                  const LloydSettings& settings);

/// The index of each row's nearest centre (lowest index on ties), with the same distances
/// as lloyd. Local.
std::vector<ClusterLabel> nearest_centres(const Eigen::MatrixXd& points,
                                          const Eigen::MatrixXd& centres);

} // namespace moesim::fit
