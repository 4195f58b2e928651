#pragma once
// The run's HDF5 output file, opened in parallel: provenance attributes, the H5MD header,
// the resolved /config and the run status (running -> complete | stopped | failed).
// Users: the app (create, status), Series (datasets), experiments (through Context).

#include "moesim/io/handle.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace moesim::io {

/// Run status stored in the root attribute `status`.
enum class Status { running, complete, stopped, failed };

/// "running", "complete", "stopped", "failed".
const char* to_string(Status status) noexcept;

/// What a run records about itself at creation (the rest of the provenance is gathered by
/// OutputFile: versions, host, time, CPU, compiler flags, nranks).
struct RunInfo {
    std::string experiment;
    std::uint64_t seed = 0;
    std::string config_toml;  ///< fully resolved config, stored as /config
    std::string command_line; ///< argv joined with spaces
};

/// An output file open on every rank of a communicator through MPI-IO.
class OutputFile {
public:
    /// Creates `path` with the MPI-IO driver, writes root provenance attributes, /h5md and
    /// /config, and sets status = running, then flushes. Never overwrites an existing file
    /// unless `overwrite` (H5F_ACC_EXCL otherwise). Collective over comm; throws IoError
    /// (collective scope) if the file cannot be created.
    static OutputFile create(const boost::mpi::communicator& comm, const std::string& path,
                             bool overwrite, const RunInfo& info);

    /// Reopens the output of an interrupted run to continue it from a checkpoint taken before
    /// step `resume_step`: status goes back to running, and every Series opened on it
    /// afterwards drops its frames with step >= resume_step and appends after the rest.
    /// Collective over comm; throws IoError (collective) if the file cannot be opened.
    static OutputFile open_for_restart(const boost::mpi::communicator& comm,
                                       const std::string& path, std::uint64_t resume_step);

    OutputFile(OutputFile&&) noexcept = default;
    OutputFile& operator=(OutputFile&&) noexcept = default;
    ~OutputFile();

    /// Rewrites the `status` attribute and flushes. Collective.
    void set_status(Status status);
    /// Adds a root attribute (identical value on every rank). Collective.
    void add_attribute(const std::string& name, std::int64_t value);
    void add_attribute(const std::string& name, const std::string& value);
    /// H5Fflush: everything written so far is readable after a crash. Collective.
    void flush();
    /// Closes the file. Collective. Safe to call twice.
    void close();

    bool is_open() const noexcept { return file_.valid(); }
    const std::string& path() const noexcept { return path_; }
    HdfId id() const noexcept { return file_.id(); }
    /// This file's private duplicate of the communicator.
    const boost::mpi::communicator& comm() const noexcept { return comm_; }
    /// Set when reopened by open_for_restart: series keep only frames before this step.
    const std::optional<std::uint64_t>& resume_step() const noexcept { return resume_step_; }

private:
    OutputFile(boost::mpi::communicator comm, std::string path, Handle file);
    boost::mpi::communicator comm_;
    std::string path_;
    Handle file_;
    std::optional<std::uint64_t> resume_step_;
};

} // namespace moesim::io
