#pragma once
// Communicator helpers every parallel object uses: a private duplicate with errors returned
// (so MOESIM_MPI_CHECK sees them), agreement checks, and scans over counts.

#include "moesim/core/error.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <functional>
#include <string_view>

namespace moesim::par {

/// A duplicate of `comm` with MPI_ERRORS_RETURN installed, freed with its last copy.
/// Long-lived objects (writers, exchange plans) keep one so their messages never match the
/// caller's. Collective over comm (MPI_Comm_dup): call once per object, never per operation.
boost::mpi::communicator duplicate(const boost::mpi::communicator& comm);

/// Sum of `value` over ranks below this one (MPI_Exscan; 0 on rank 0). Collective over comm.
std::uint64_t exclusive_prefix_sum(const boost::mpi::communicator& comm, std::uint64_t value);

/// Sum of `value` over all ranks. Integer only: exact, so independent of order. Collective.
std::uint64_t total(const boost::mpi::communicator& comm, std::uint64_t value);

/// True if `flag` is true on any rank (one MPI_Allreduce, LOR). Collective over comm.
bool any(const boost::mpi::communicator& comm, bool flag);

/// Bitwise OR of `bits` over all ranks (one MPI_Allreduce, BOR): several flags agreed on in
/// one collective, e.g. a stop request and a failed check. Collective over comm.
unsigned any_bits(const boost::mpi::communicator& comm, unsigned bits);

/// Turns a condition seen by some ranks into a collective error: if `bad` holds on any rank,
/// every rank throws the error `make_error()` builds (LAMMPS' flag-then-Allreduce).
/// Collective over comm.
template <class MakeError>
void throw_if_any(const boost::mpi::communicator& comm, bool bad, MakeError&& make_error) {
    if (any(comm, bad))
        throw make_error();
}

/// Debug builds: checks `value` is equal on all ranks (one Allreduce over (-v, v), PETSc's
/// trick) and throws InternalError naming `what` otherwise. Release builds: no-op.
/// Collective over comm in debug builds.
void check_same(const boost::mpi::communicator& comm, std::int64_t value, std::string_view what);

} // namespace moesim::par
