#pragma once
// HDF5's own error reporting, turned into moesim's: the library's automatic printing is
// switched off (every call is checked and becomes an IoError instead), and the error stack
// of a failed call is walked into one line for the exception message (HighFive's approach).
// Users: io internals, tests, the app (once at start).

#include <string>

namespace moesim::io {

/// Turns HDF5's automatic error printing off for the default error stack. Idempotent; every
/// io entry point (OutputFile::create, inspect, the readers) calls it, so callers need not.
/// Local.
void silence_hdf5_errors() noexcept;

/// The current HDF5 error stack, innermost call last, as "func(): desc; func(): desc", then
/// clears it. Empty if there is no error. Local.
std::string take_hdf5_error_stack();

} // namespace moesim::io
