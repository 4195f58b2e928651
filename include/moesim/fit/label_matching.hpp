#pragma once
// Matching estimated to true mixture components: mixture fits recover components only up to a
// relabelling, so errors are taken after the permutation that minimises the total squared
// distance between matched means, a linear assignment problem. Exhaustive search over the k!
// permutations for k <= 8, the Hungarian algorithm (O(k^3)) beyond. Users: the misspec
// experiment (mean squared error and label accuracy after matching).

#include <Eigen/Core>

#include <vector>

namespace moesim::fit {

/// A one-to-one assignment of rows to columns of a square cost matrix.
struct Assignment {
    std::vector<Eigen::Index> column_of_row; ///< row i is assigned column column_of_row[i]
    double cost = 0.0;                       ///< sum_i cost(i, column_of_row[i])
};

/// The minimum-cost assignment by trying every permutation in lexicographic order (the first
/// minimum on ties). Local. Throws InternalError unless cost is square with 1 <= k <= 10.
Assignment min_cost_assignment_exhaustive(const Eigen::MatrixXd& cost);

/// The minimum-cost assignment by the Hungarian algorithm in its shortest-augmenting-path
/// form with dual potentials (Kuhn 1955, Munkres 1957; O(k^3), as in Jonker & Volgenant
/// 1987). Same minimum cost as the exhaustive search (the permutation may differ on ties).
/// Local. Throws InternalError unless cost is square, non-empty and finite.
Assignment min_cost_assignment_hungarian(const Eigen::MatrixXd& cost);

/// Exhaustive for k <= 8, Hungarian beyond. Local.
Assignment min_cost_assignment(const Eigen::MatrixXd& cost);

/// Matches the rows of `estimated` (k x d) to the rows of `truth` (k x d) minimising
/// sum_i ||estimated[column_of_row[i]] - truth[i]||^2: column_of_row[i] is the estimate of
/// true component i, and cost is that total squared error. Local. Throws InternalError on
/// shape mismatch.
Assignment match_means(const Eigen::MatrixXd& estimated, const Eigen::MatrixXd& truth);

} // namespace moesim::fit
