#pragma once
// Every rank gets every item's row, in global id order, from each rank's rows of its own
// items: an exact gather (MPI_Allgatherv), for small per-item results that every rank needs
// whole, such as per-expert overlaps or a diagnostic table. Users: experiments, tests.

#include "moesim/par/block_partition.hpp"

#include <boost/mpi/communicator.hpp>

#include <span>
#include <vector>

namespace moesim::par {

/// Returns n_items x width values, row-major by global id. `local_rows` holds this rank's
/// items (partition.items_of(rank)) in id order, `width` values each. Collective over comm;
/// comm.size() must equal partition.nranks(). Throws core::InternalError on a size mismatch
/// or if the total exceeds MPI's int counts.
std::vector<double> all_gather_rows(const boost::mpi::communicator& comm,
                                    const BlockPartition& partition,
                                    std::span<const double> local_rows, std::size_t width);

} // namespace moesim::par
