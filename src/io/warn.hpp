#pragma once
// Warnings from places that must not throw (destructors): "[rank r] warning: ..." unbuffered
// to stderr, as STYLE.md 2.3 asks.

#include <string>

namespace moesim::io::impl {

/// Prints "[rank r] warning: <message>" to stderr (rank of MPI_COMM_WORLD, or no prefix if
/// MPI is not running). Never throws. Local.
void warn(const std::string& message) noexcept;

} // namespace moesim::io::impl
