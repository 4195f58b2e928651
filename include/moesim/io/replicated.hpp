#pragma once
// A fixed-size float64 dataset whose values every rank holds identically: end-of-run
// estimates (steps to recovery, fitted rates) that are not a time series. Written once,
// collectively, by rank 0 while the others select nothing. Users: experiments.

#include "moesim/io/output_file.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moesim::io {

/// Creates `path` (and missing parent groups) as a float64 dataset of `shape` (empty: a
/// scalar) holding `values` (prod(shape) entries, row-major, identical on every rank), then
/// flushes; an existing dataset of the same shape is overwritten (a restarted run rewrites
/// its estimates). Collective over the file's communicator. Throws InternalError if a rank
/// passes the wrong number of values, IoError if the path exists with another shape or HDF5
/// fails.
void write_replicated(OutputFile& file, const std::string& path,
                      const std::vector<std::uint64_t>& shape, std::span<const double> values);

} // namespace moesim::io
