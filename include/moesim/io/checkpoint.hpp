#pragma once
// Checkpoints: a run's whole state by global id (so it restarts at any rank count), written
// whole or not at all (AMReX: write NAME.ckpt.h5.tmp, close, rename over the old checkpoint),
// plus the policy of when to write one: every N steps, and whenever a stop signal reaches any
// rank. Two kinds of state: a core::StateSet (time-stepped runs: the same list is saved and
// restored) and the finished records of a grid of independent jobs, which any one rank may
// write alone while the others keep computing.
// Users: the step and job drivers, the app.

#include "moesim/core/state_set.hpp"
#include "moesim/io/output_file.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moesim::io {

/// Format of checkpoint files; bump when the layout changes incompatibly.
/// 2: state arrays distributed or replicated (core::StateSet); job records under /jobs.
inline constexpr std::int64_t checkpoint_format_version = 2;

/// The header of a checkpoint.
struct CheckpointInfo {
    std::string path;
    std::int64_t format_version = 0;
    std::string experiment;
    std::uint64_t step = 0;          ///< state after this many steps; resume runs this step next
    std::uint64_t output_frames = 0; ///< frames in the output when the checkpoint was taken
    std::string output;              ///< the output file the run was writing
    std::string config_toml;         ///< the resolved config the run used
    std::uint64_t jobs_total = 0;    ///< job runs: jobs in the grid (0 for step runs)
    std::uint64_t jobs_done = 0;     ///< job runs: finished jobs whose records it holds
};

/// Where the checkpoints of output NAME.h5 go: NAME.ckpt.h5 (other names get .ckpt.h5
/// appended). Local.
std::string checkpoint_path_for(const std::string& output);

/// Reads a checkpoint's header on rank 0 and broadcasts it. Collective. A missing, truncated,
/// non-HDF5 or non-checkpoint file is a core::UsageError (exit 2) naming the file and problem.
CheckpointInfo read_checkpoint_info(const boost::mpi::communicator& comm, const std::string& path);

/// Records of finished jobs: ids (any order) and one row of `width` doubles per id.
struct JobRecords {
    std::uint64_t n_jobs = 0; ///< jobs in the whole grid
    std::size_t width = 0;
    std::vector<std::uint64_t> ids;
    std::vector<double> rows; ///< ids.size() * width, row i belongs to ids[i]
};

/// When and how one run checkpoints, and what it restarts from.
class Checkpointer {
public:
    /// `path` is where checkpoints go (NAME.ckpt.h5); `every` = 0 writes one only on a stop
    /// signal. `run` is stored in each checkpoint (experiment, seed, config). `restart` is
    /// the checkpoint this run resumes from, if any.
    Checkpointer(boost::mpi::communicator comm, std::string path, std::uint64_t every, RunInfo run,
                 std::string output, std::optional<CheckpointInfo> restart);

    /// Agrees on the stop flag across ranks (one Allreduce, which also carries `bad`: true on
    /// any rank makes `any_bad()` true on every rank) and returns true if a checkpoint is due
    /// before `step`: a stop was requested, or `step` is a positive multiple of `every` other
    /// than the step the run started or resumed at. Collective.
    bool due(std::uint64_t step, bool bad = false);
    /// The Allreduce of due() alone: agrees on the stop flag and on `bad`. Collective.
    void agree(bool bad);
    /// Whether the last due() saw `bad` on some rank.
    bool any_bad() const noexcept { return any_bad_; }
    /// Whether the last due() saw a stop request on some rank.
    bool stop_requested() const noexcept { return stop_; }

    /// Writes the checkpoint of `state` before `step` atomically, then, if a stop was
    /// requested, throws core::StopRequested (exit 75). Collective; IoError on failure.
    void save(std::uint64_t step, std::uint64_t output_frames, const core::StateSet& state);

    /// Fills every array of `state` from the restart checkpoint (this rank's rows of
    /// distributed arrays, the whole of replicated ones). Throws core::UsageError (collective:
    /// shapes are global) naming the array if the checkpoint lacks it or its shape differs,
    /// IoError if reading fails. Local.
    void restore(core::StateSet& state) const;

    /// Writes `records` as the checkpoint, from this rank alone (a self communicator), so one
    /// rank can save finished jobs while the others compute. Local; IoError on failure. At
    /// most one rank may call it at a time (the job board's writer lock sees to that).
    void save_jobs(const JobRecords& records);
    /// The finished job records of the restart checkpoint (none if it holds none). Local.
    JobRecords restore_jobs() const;
    /// After a job run completed (its output holds the results): removes this run's job
    /// checkpoint, which nothing needs any more. Step checkpoints stay, since a longer run
    /// can continue from them. Collective (rank 0 removes).
    void discard_job_checkpoint();

    /// The step to resume at, if restarting.
    std::optional<std::uint64_t> restart_step() const;
    bool restarting() const noexcept { return restart_.has_value(); }
    /// Frames the output held when the restart checkpoint was taken (0 if not restarting).
    std::uint64_t restart_frames() const noexcept { return restart_ ? restart_->output_frames : 0; }

    const std::string& path() const noexcept { return path_; }
    std::uint64_t every() const noexcept { return every_; }
    const boost::mpi::communicator& comm() const noexcept { return comm_; }

private:
    boost::mpi::communicator comm_;
    std::string path_;
    std::uint64_t every_;
    RunInfo run_;
    std::string output_;
    std::optional<CheckpointInfo> restart_;
    bool stop_ = false;
    bool any_bad_ = false;
};

} // namespace moesim::io
