#pragma once
// Checked raw MPI calls: MOESIM_MPI_CHECK(MPI_Alltoall(...)) throws core::MpiError with the
// call text and MPI's error string (AMReX's BL_MPI_REQUIRE, made effective by installing
// MPI_ERRORS_RETURN on every communicator moesim duplicates).

#include "moesim/core/error.hpp"

#include <mpi.h>

namespace moesim::par::impl {

/// Throws MpiError if `code` is not MPI_SUCCESS. Local.
void check_mpi(int code, const char* call_text);

} // namespace moesim::par::impl

#define MOESIM_MPI_CHECK(call) ::moesim::par::impl::check_mpi((call), #call)
