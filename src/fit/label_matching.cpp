#include "moesim/fit/label_matching.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace moesim::fit {

namespace {

constexpr Eigen::Index exhaustive_limit = 8;

double total_cost(const Eigen::MatrixXd& cost, const std::vector<Eigen::Index>& column_of_row) {
    double total = 0.0;
    for (Eigen::Index i = 0; i < cost.rows(); ++i)
        total += cost(i, column_of_row[static_cast<std::size_t>(i)]);
    return total;
}

} // namespace

Assignment min_cost_assignment_exhaustive(const Eigen::MatrixXd& cost) {
    const Eigen::Index k = cost.rows();
    core::require(k >= 1 && k <= 10 && cost.cols() == k,
                  "min_cost_assignment_exhaustive: needs a square cost matrix, 1 <= k <= 10");
    std::vector<Eigen::Index> perm(static_cast<std::size_t>(k));
    std::iota(perm.begin(), perm.end(), Eigen::Index{0});
    Assignment best{perm, total_cost(cost, perm)};
    while (std::next_permutation(perm.begin(), perm.end())) {
        const double c = total_cost(cost, perm);
        if (c < best.cost)
            best = {perm, c};
    }
    return best;
}

Assignment min_cost_assignment_hungarian(const Eigen::MatrixXd& cost) {
    const Eigen::Index k = cost.rows();
    core::require(k >= 1 && cost.cols() == k && cost.allFinite(),
                  "min_cost_assignment_hungarian: needs a finite, square, non-empty cost matrix");
    // 1-based arrays; index 0 is the virtual column the augmenting path starts from.
    // u, v: dual potentials of rows and columns; row_of[j]: the row holding column j.
    constexpr double inf = std::numeric_limits<double>::infinity();
    const auto size = static_cast<std::size_t>(k + 1);
    std::vector<double> u(size, 0.0), v(size, 0.0), min_slack(size);
    std::vector<Eigen::Index> row_of(size, 0), previous(size, 0);
    std::vector<char> used(size);
    for (Eigen::Index row = 1; row <= k; ++row) {
        row_of[0] = row;
        std::size_t j0 = 0;
        std::fill(min_slack.begin(), min_slack.end(), inf);
        std::fill(used.begin(), used.end(), 0);
        // Dijkstra on reduced costs from the new row until a free column is reached.
        do {
            used[j0] = 1;
            const Eigen::Index i0 = row_of[j0];
            double delta = inf;
            std::size_t j1 = 0;
            for (std::size_t j = 1; j < size; ++j) {
                if (used[j])
                    continue;
                const double reduced = cost(i0 - 1, static_cast<Eigen::Index>(j) - 1) -
                                       u[static_cast<std::size_t>(i0)] - v[j];
                if (reduced < min_slack[j]) {
                    min_slack[j] = reduced;
                    previous[j] = static_cast<Eigen::Index>(j0);
                }
                if (min_slack[j] < delta) {
                    delta = min_slack[j];
                    j1 = j;
                }
            }
            for (std::size_t j = 0; j < size; ++j) {
                if (used[j]) {
                    u[static_cast<std::size_t>(row_of[j])] += delta;
                    v[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            j0 = j1;
        } while (row_of[j0] != 0);
        // Flip the augmenting path back to the virtual column.
        do {
            const auto j1 = static_cast<std::size_t>(previous[j0]);
            row_of[j0] = row_of[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    std::vector<Eigen::Index> column_of_row(static_cast<std::size_t>(k));
    for (std::size_t j = 1; j < size; ++j)
        column_of_row[static_cast<std::size_t>(row_of[j] - 1)] = static_cast<Eigen::Index>(j) - 1;
    return {column_of_row, total_cost(cost, column_of_row)};
}

Assignment min_cost_assignment(const Eigen::MatrixXd& cost) {
    return cost.rows() <= exhaustive_limit ? min_cost_assignment_exhaustive(cost)
                                           : min_cost_assignment_hungarian(cost);
}

Assignment match_means(const Eigen::MatrixXd& estimated, const Eigen::MatrixXd& truth) {
    const Eigen::Index k = truth.rows();
    core::require(estimated.rows() == k && estimated.cols() == truth.cols() && k >= 1,
                  "match_means: estimated and true means must both be k x d");
    Eigen::MatrixXd cost(k, k);
    for (Eigen::Index i = 0; i < k; ++i)
        for (Eigen::Index j = 0; j < k; ++j)
            cost(i, j) = (estimated.row(j) - truth.row(i)).squaredNorm();
    return min_cost_assignment(cost);
}

} // namespace moesim::fit
