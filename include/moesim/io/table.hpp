#pragma once
// Final tables written once: a fixed-size dataset (scalar or N-dimensional) whose values are
// the same on every rank, such as /estimates. Created collectively; rank 0 writes every
// element and the other ranks select none, so there is one writer and no rank-count-dependent
// layout. Written again (a run restarted from a checkpoint), a table of the same shape is
// overwritten in place. Users: experiments writing end-of-run estimates.

#include "moesim/io/output_file.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moesim::io {

/// Creates float64 dataset `path` of `shape` (empty: a scalar), creating missing parent
/// groups, or opens it if it exists with that shape, and writes `values` (row-major,
/// prod(shape) entries, identical on every rank; rank 0's are written). A dataset of zero
/// elements is created but not written (HDF5 1.10.8 fails collective writes of size zero).
/// Collective over the file's communicator; throws IoError on HDF5 failure or if the
/// dataset exists with another shape, and InternalError (on every rank) if a rank passes the
/// wrong number of values.
void write_replicated(OutputFile& file, const std::string& path, std::vector<std::uint64_t> shape,
                      std::span<const double> values);

/// The int64 form of write_replicated (counts, indices, flags). Collective.
void write_replicated(OutputFile& file, const std::string& path, std::vector<std::uint64_t> shape,
                      std::span<const std::int64_t> values);

/// A one-dimensional table of fixed-length NUL-padded ASCII strings (names of the rows of
/// other tables, e.g. /estimates/routers/name), as write_replicated. Collective.
void write_replicated_strings(OutputFile& file, const std::string& path,
                              std::span<const std::string> values);

} // namespace moesim::io
