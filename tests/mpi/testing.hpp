#pragma once
// Helpers for MPI tests: agreement across ranks before a REQUIRE, so one failing rank
// cannot leave the others waiting in the next collective.

#include <boost/mpi/communicator.hpp>

#include <cstddef>
#include <vector>

namespace moesim::testing {

/// The world communicator the test main set up (a duplicate of MPI_COMM_WORLD).
const boost::mpi::communicator& world();

/// True on every rank iff `ok` is true on every rank. Collective.
bool all_ranks(const boost::mpi::communicator& comm, bool ok);

/// Every rank's `n` values concatenated in rank order, on every rank: for comparing sharded
/// results (rows owned in rank order) with a serial reference. Collective.
std::vector<double> gather_all(const boost::mpi::communicator& comm, const double* data,
                               std::size_t n);

} // namespace moesim::testing
