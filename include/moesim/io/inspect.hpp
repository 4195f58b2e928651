#pragma once
// A readable summary of an output file: `moesim inspect FILE`. Opens the file read-only
// without MPI-IO, so it works on a live run's file (after its last flush) and on the file of
// a run that was killed mid-way.

#include <ostream>
#include <string>

namespace moesim::io {

/// Prints provenance attributes, status (with "incomplete" if not complete), what a checkpoint
/// holds (a checkpoint file, or the checkpoint beside an unfinished output: its step, or how
/// many of its jobs are done), the group and dataset tree with shapes and dtypes, and the last
/// frame of every /observables series.
/// Local; throws IoError if the file cannot be opened or is not an HDF5 file.
void inspect(const std::string& path, std::ostream& out);

} // namespace moesim::io
