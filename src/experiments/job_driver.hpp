#pragma once
// The job driver: runs a grid of independent jobs (the rates fits, misspec cells) for any
// experiment, which supplies only what one job computes. It owns the schedule (longest first,
// dynamic or static), the records by job id, progress, checkpoints of finished records (any
// rank writes one while the others compute, so a killed run loses only the jobs in flight
// and those finished since the last checkpoint), stop signals (honoured between jobs, and
// inside a job that polls its StopCheck: the job is abandoned and redone after a restart) and
// restarts at any rank count, which skip the finished jobs. Records are pure functions of the
// job id, so the table is identical for any rank count, schedule and interruption.
// Users: experiments made of independent jobs.

#include "experiments/experiment.hpp"

#include "moesim/core/stop_flag.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace moesim::experiments {

/// What a grid experiment supplies to the job driver.
struct Jobs {
    std::string label;            ///< progress label, e.g. "rates"
    std::uint64_t count = 0;      ///< job ids 0 .. count-1
    std::size_t record_width = 0; ///< doubles each job reports
    std::vector<double> costs;    ///< relative cost of each job, for the schedule
    bool dynamic = true;          ///< ranks take the next job when free, or a static split
    /// Computes job `id`'s record (record_width values). A pure function of the id and the
    /// config, so any rank can run any job. Local. May throw core::NumericalError (the run
    /// fails once the other jobs are done) or core::Interrupted (after `stop` said stop).
    std::function<std::vector<double>(std::uint64_t id, const core::StopCheck& stop)> run;
    /// What job `id` is, for messages: "n = 1000, replicate 3".
    std::function<std::string(std::uint64_t id)> describe;
    /// The record entry the progress line shows, and its name.
    std::size_t progress_entry = 0;
    std::string progress_name;
};

/// Runs every job the restart checkpoint (if any) does not hold and returns all records by
/// id (count x record_width, row-major), the same on every rank. Checkpoints of the finished
/// records every run.checkpoint_every finished jobs (0: only on a stop). On a stop signal it
/// writes a checkpoint of every finished job and throws core::StopRequested (exit 75).
/// Collective over ctx.comm.
std::vector<double> run_jobs(Context& ctx, const Jobs& jobs);

} // namespace moesim::experiments
