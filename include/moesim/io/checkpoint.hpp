#pragma once
// Checkpoints: a run's whole state by global id (so it restarts at any rank count), written
// whole or not at all (AMReX: write NAME.ckpt.h5.tmp, close on all ranks, rank 0 renames over
// the old checkpoint), plus the policy of when to write one: every N steps, and whenever a
// stop signal reaches any rank. Users: every experiment through its Context, the app.

#include "moesim/io/output_file.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moesim::io {

/// Format of checkpoint files; bump when the layout changes incompatibly.
inline constexpr std::int64_t checkpoint_format_version = 1;

/// The header of a checkpoint.
struct CheckpointInfo {
    std::string path;
    std::int64_t format_version = 0;
    std::string experiment;
    std::uint64_t step = 0;          ///< state after this many steps; resume runs this step next
    std::uint64_t output_frames = 0; ///< frames in the output when the checkpoint was taken
    std::string output;              ///< the output file the run was writing
    std::string config_toml;         ///< the resolved config the run used
};

/// Reads a checkpoint's header on rank 0 and broadcasts it. Collective. A missing, truncated,
/// non-HDF5 or non-checkpoint file is a core::UsageError (exit 2) naming the file and problem.
CheckpointInfo read_checkpoint_info(const boost::mpi::communicator& comm,
                                    const std::string& path);

/// One array of state: rows by global id; this rank passes its own contiguous rows.
struct StateArray {
    std::string name;
    std::uint64_t n_global = 0;
    std::vector<std::uint64_t> row_shape;
    std::span<const double> local_rows;
};

/// When and how one run checkpoints, and what it restarts from.
class Checkpointer {
public:
    /// `path` is where checkpoints go (NAME.ckpt.h5); `every` = 0 writes one only on a stop
    /// signal. `run` is stored in each checkpoint (experiment, seed, config). `restart` is
    /// the checkpoint this run resumes from, if any.
    Checkpointer(boost::mpi::communicator comm, std::string path, std::uint64_t every,
                 RunInfo run, std::string output, std::optional<CheckpointInfo> restart);

    /// Call at the top of every step. Agrees on the stop flag across ranks (one Allreduce)
    /// and returns true if a checkpoint is due before `step`: a stop was requested, or `step`
    /// is a positive multiple of `every` other than the step the run started or resumed at.
    /// Collective.
    bool due(std::uint64_t step);

    /// Writes the checkpoint for the state before `step` atomically, then, if a stop was
    /// requested, throws core::StopRequested (exit 75). Collective; IoError on failure.
    void save(std::uint64_t step, std::uint64_t output_frames,
              std::span<const StateArray> arrays);

    /// The step to resume at, if restarting.
    std::optional<std::uint64_t> restart_step() const;
    /// This rank's rows [first_row, first_row + n_rows) of state array `name` from the
    /// restart checkpoint. Local; IoError if absent.
    std::vector<double> restore(const std::string& name, std::uint64_t first_row,
                                std::uint64_t n_rows) const;

    const std::string& path() const noexcept { return path_; }
    std::uint64_t every() const noexcept { return every_; }

private:
    boost::mpi::communicator comm_;
    std::string path_;
    std::uint64_t every_;
    RunInfo run_;
    std::string output_;
    std::optional<CheckpointInfo> restart_;
    bool stop_ = false;
};

} // namespace moesim::io
