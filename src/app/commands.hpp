#pragma once
// The subcommands of the `moesim` executable. Each returns the process exit code; errors are
// thrown as core::Error and reported by main().

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace moesim::app {

/// Options of `moesim run`.
struct RunOptions {
    std::string config_path; ///< empty: the experiment's embedded defaults
    std::string experiment;  ///< --experiment; empty: from the config, else "mfld"
    std::vector<std::string> overrides; ///< --set section.key=value
    std::string out;         ///< --out; empty: run.out, else <experiment>.h5
    bool force = false;
    std::string restart;     ///< --restart CHECKPOINT: resume the run it belongs to
    std::int64_t checkpoint_every = -1; ///< --checkpoint-every N; -1: from run.checkpoint_every
    std::string command_line;
};

/// `moesim run`. Collective over comm.
int run_command(const boost::mpi::communicator& comm, const RunOptions& options);
/// `moesim config show NAME`: rank 0 prints the commented defaults.
int config_show_command(const boost::mpi::communicator& comm, const std::string& experiment);
/// `moesim config list`: rank 0 prints the experiments.
int config_list_command(const boost::mpi::communicator& comm);
/// `moesim inspect FILE`: rank 0 prints the summary.
int inspect_command(const boost::mpi::communicator& comm, const std::string& path);

} // namespace moesim::app
