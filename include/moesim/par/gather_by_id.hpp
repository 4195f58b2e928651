#pragma once
// Gathering fixed-width records of independent jobs by global job id: every rank ends up
// with all records in id order, whichever rank computed which job. With records that are
// pure functions of their id, the gathered table is identical for every rank count and
// schedule. Users: the rates experiment (one record per (n, replicate) fit).

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace moesim::par {

/// Rows of `width` doubles tagged by `ids` (rows.size() == ids.size() * width) from every
/// rank; returns n_total * width doubles, row id at offset id * width, on every rank. Ranks
/// may hold no rows but must still call. Throws InternalError (collective: every rank sees
/// the same gathered ids) unless each id in [0, n_total) is held exactly once over all
/// ranks. Collective over comm (MPI_Allgather of counts, MPI_Allgatherv of ids and rows).
std::vector<double> allgather_by_id(const boost::mpi::communicator& comm,
                                    std::span<const std::uint64_t> ids,
                                    std::span<const double> rows, std::size_t width,
                                    std::uint64_t n_total);

} // namespace moesim::par
