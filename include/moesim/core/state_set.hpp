#pragma once
// The state of a run, registered once: named float64 arrays that a checkpoint saves and a
// restart restores from the same list, so the two can never drift apart (LAMMPS' fix
// write_restart/restart pair, written as one declaration). Distributed arrays are rows by
// global id, of which each rank holds a contiguous range; replicated arrays are identical on
// every rank. No MPI or HDF5 here, so models may describe their own state.
// Users: the step driver and its checkpointer, experiments, models.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moesim::core {

/// One registered array. The span points into the owner's storage, which must outlive the
/// StateSet and keep its address (Eigen matrices that are not resized do).
struct StateArray {
    std::string name;
    bool distributed = false;
    std::uint64_t n_global = 0;           ///< rows over all ranks (distributed) or 1
    std::uint64_t first_row = 0;          ///< global id of this rank's first row (distributed)
    std::vector<std::uint64_t> row_shape; ///< shape of one row (distributed) or of the array
    std::span<double> values;             ///< this rank's rows, row-major, or the whole array

    /// prod(row_shape): values per row (1 for an empty shape).
    std::uint64_t row_size() const noexcept;
    /// Rows this rank holds: values.size() / row_size() (distributed) or 1.
    std::uint64_t n_local() const noexcept;
};

/// An ordered list of state arrays with unique names. Local.
class StateSet {
public:
    /// Registers rows [first_row, first_row + n_local) of an n_global x row_shape array, held
    /// by this rank in `local_rows` (n_local * prod(row_shape) values; n_local may be 0).
    /// Throws InternalError if the name is taken or empty, the size is not a whole number of
    /// rows, or the rows run past n_global.
    StateSet& distributed(std::string name, std::uint64_t n_global, std::uint64_t first_row,
                          std::vector<std::uint64_t> row_shape, std::span<double> local_rows);

    /// Registers an array of `shape` (empty: a scalar) that is identical on every rank; a
    /// checkpoint saves rank 0's copy and a restart gives it to every rank. Throws
    /// InternalError if the name is taken or empty or values.size() != prod(shape).
    StateSet& replicated(std::string name, std::vector<std::uint64_t> shape,
                         std::span<double> values);

    const std::vector<StateArray>& arrays() const noexcept { return arrays_; }
    bool empty() const noexcept { return arrays_.empty(); }

private:
    void check_new_name(const std::string& name) const;
    std::vector<StateArray> arrays_;
};

} // namespace moesim::core
