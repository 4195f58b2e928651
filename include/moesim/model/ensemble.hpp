#pragma once
// Merging independently trained mean-field networks (the "PoC-based ensemble" of arXiv
// 2502.05784): M systems of N particles merge into one network of M N particles with weights
// 1/(MN), whose prediction is the average of the M systems' predictions. Also the distances
// of predictions on a test set (sup norm and L2) and the random draws of M systems out of
// M_max. Everything here works on predictions every rank holds whole. Users: the
// propagation-of-chaos experiment, tests.

#include "moesim/core/philox.hpp"
#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace moesim::model {

/// The merged prediction of the systems `members` (row indices of `predictions`, one row of
/// test-set predictions per system): p_0 + (1/M) sum_{m >= 1} (p_m - p_0) in the order
/// given, which equals (1/M) sum_m p_m up to rounding and is exactly p_0 when all members'
/// predictions are equal (so merging copies of one system returns its prediction bit for
/// bit). Local. Throws core::InternalError if `members` is empty or out of range.
Eigen::VectorXd merge_predictions(const RowMatrix& predictions,
                                  std::span<const std::size_t> members);

/// max_b |a_b - b_b|. Local; equal lengths.
double sup_distance(const Eigen::VectorXd& a, const Eigen::VectorXd& b);
/// sqrt((1/n) sum_b (a_b - b_b)^2): the L2 distance under the test set's empirical law.
/// Local; equal lengths.
double l2_distance(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

/// `m` distinct indices out of [0, pool), uniformly, sorted ascending: draw number `draw` of
/// `stream`, by a partial Fisher-Yates shuffle whose uniforms are keyed by (draw, 0, j). A
/// pure function of its arguments. Local. Throws core::InternalError unless 1 <= m <= pool.
std::vector<std::size_t> draw_members(const core::Philox& stream, std::uint64_t draw, std::size_t m,
                                      std::size_t pool);

} // namespace moesim::model
