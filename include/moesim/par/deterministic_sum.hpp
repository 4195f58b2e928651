#pragma once
// Floating-point sums whose bits do not depend on the rank count: values are summed within
// each partition block in id order, the block partials are gathered, and every rank adds
// them in global block order. MPI_Allreduce on floating data is never used for results,
// because its association order changes with the rank count.
// Users: mean-field forward passes, losses, router gradients, any reduced observable.

#include "moesim/par/block_partition.hpp"

#include <boost/mpi/communicator.hpp>

#include <span>
#include <vector>

namespace moesim::par {

/// Adds per-block partial vectors in global block order. `local_block_partials` holds, for
/// each block this rank owns (in block order), `width` doubles. Returns the width-long
/// total, bitwise identical on every rank and for every rank count, given the same
/// partials. Collective over comm; comm.size() must equal partition.nranks().
std::vector<double> sum_block_partials(const boost::mpi::communicator& comm,
                                       const BlockPartition& partition,
                                       std::span<const double> local_block_partials,
                                       std::size_t width);

/// Sum over all items of `width`-long rows: `local_rows` holds this rank's items
/// (partition.items_of(rank)) in id order, row-major. Sums within each block in id order,
/// then across blocks as sum_block_partials. Independent of the rank count. Collective.
std::vector<double> deterministic_sum(const boost::mpi::communicator& comm,
                                      const BlockPartition& partition,
                                      std::span<const double> local_rows, std::size_t width);

/// Scalar form: one value per local item. Independent of the rank count. Collective.
double deterministic_sum(const boost::mpi::communicator& comm, const BlockPartition& partition,
                         std::span<const double> local_values);

} // namespace moesim::par
