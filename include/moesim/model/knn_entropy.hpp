#pragma once
// Kozachenko-Leonenko estimate of the differential entropy H(mu) = -int mu log mu of the law
// behind a cloud of N points in R^D, from each point's distance eps_i to its k-th nearest
// other point:  H_hat = psi(N) - psi(k) + log V_D + (D/N) sum_i log eps_i,  V_D the volume of
// the unit ball. It lets a mean-field run report its full objective loss + lambda' E|theta|^2
// + lambda Ent, Ent = -H. Neighbours come from a kd-tree (Debian's nanoflann) in low D and a
// blocked distance product (Eigen GEMM) in high D. Users: model/full_batch_langevin, tests.
//
// Bias. The estimator is consistent (N -> inf, k fixed), but at finite N it is biased, by an
// amount that depends on the law, N, D and k. For a Gaussian N(0, s^2 I_D) (any s: the
// estimate shifts by exactly D log s) E[H_hat] - H measured over independent clouds
// (python/knn_entropy_bias.py, an independent numpy/scipy implementation) is (k = 1 unless noted):
//   D = 2,  N = 4000: -0.0015 (+-0.0006)        D = 4, N = 50 / 500 / 10000: -0.08 / -0.05 / -0.02
//   D = 4,  N = 2000, k = 3: -0.051            D = 8, N = 1000: -0.04
//   D = 16, N = 1000: +0.45 (k = 4: +0.73)
//   D = 102, N = 50 / 500 / 2000 / 10000: +22.0 / +18.5 / +17.1 / +15.5 (H = 144.7)
// In low D it is below 2% of H and shrinks with N; in high D (N^(1/D) near 1, so a point's
// nearest neighbour is about as far as a typical point) it is tens of nats and falls only
// about linearly in log N, so there differences of H_hat between clouds of different N are
// dominated by the bias, not by the entropies.

#include "moesim/model/row_matrix.hpp"
#include "moesim/par/block_partition.hpp"

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include <cstdint>

namespace moesim::model {

/// How neighbours are found. Both are exact; they differ in the last bits of the distances.
enum class NeighbourSearch {
    automatic,  ///< kd_tree if D <= KnnEntropyOptions::kd_tree_max_dim, else brute_force
    kd_tree,    ///< nanoflann kd-tree: O(N log N) in low D, degrades to O(N^2) in high D
    brute_force ///< |q|^2 + |r|^2 - 2 q.r by GEMM over fixed blocks of queries and references
};

struct KnnEntropyOptions {
    int k = 1; ///< neighbour order, 1 <= k < N
    NeighbourSearch search = NeighbourSearch::automatic;
    Eigen::Index kd_tree_max_dim = 10;
};

/// H_hat of the rows of `cloud` (N x D). Queries are processed in blocks of `query_block`
/// rows, so the result is bitwise that of the sharded overload at any rank count with a
/// partition of that block size. Returns -inf if two points coincide. Local.
/// Throws core::InternalError unless 1 <= k < N and D >= 1.
double knn_entropy(const RowMatrix& cloud, const KnnEntropyOptions& options = {},
                   std::uint64_t query_block = 64);

/// H_hat of a sharded cloud: `local_rows` are this rank's points (partition.items_of(rank), in
/// id order). The cloud is gathered whole to every rank (par::all_gather_rows, exact), each
/// rank finds the neighbours of its own points against the whole cloud, one partition block
/// of queries at a time, and the log distances are added by par::deterministic_sum: the
/// result is bitwise independent of the rank count and equal on every rank. Memory: the
/// whole cloud (N x D doubles) on every rank. Collective over comm.
double knn_entropy(const boost::mpi::communicator& comm, const par::BlockPartition& partition,
                   const RowMatrix& local_rows, const KnnEntropyOptions& options = {});

/// psi(N) - psi(k) + log V_D: the estimate is this plus (D/N) sum_i log eps_i. Local.
double knn_entropy_offset(std::uint64_t n, int k, Eigen::Index dim);

} // namespace moesim::model
