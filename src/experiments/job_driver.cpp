#include "experiments/job_driver.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/log.hpp"
#include "moesim/core/progress.hpp"
#include "moesim/par/communicator.hpp"
#include "moesim/par/job_board.hpp"
#include "moesim/par/job_schedule.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace moesim::experiments {

namespace {

// Test hook: MOESIM_STOP_AFTER_JOBS="K" requests a stop on the rank whose finished job makes
// K jobs done in all, as a signal to that one rank would.
void maybe_request_test_stop(std::uint64_t done) {
    const char* spec = std::getenv("MOESIM_STOP_AFTER_JOBS");
    unsigned long long after = 0;
    if (spec != nullptr && std::sscanf(spec, "%llu", &after) == 1 && done >= after)
        core::request_stop();
}

// Jobs in the order they are handed out: longest first, finished ones left out. Static: the
// same order split up front by cost; this rank's share.
std::vector<std::uint64_t> queue_of(const Jobs& jobs, const std::vector<bool>& finished,
                                    const boost::mpi::communicator& comm) {
    std::vector<std::uint64_t> remaining;
    std::vector<double> costs;
    for (std::uint64_t job = 0; job < jobs.count; ++job)
        if (!finished[job]) {
            remaining.push_back(job);
            costs.push_back(jobs.costs[job]);
        }
    std::vector<std::uint64_t> queue;
    if (jobs.dynamic) {
        for (std::uint64_t position : par::order_by_decreasing_cost(costs))
            queue.push_back(remaining[position]);
    } else {
        for (std::uint64_t position :
             par::jobs_of(par::schedule_by_cost(costs, comm.size()), comm.rank()))
            queue.push_back(remaining[position]);
    }
    return queue;
}

// Writes every job the board holds as the checkpoint, from this rank alone.
std::uint64_t save_board(io::Checkpointer& checkpoint, const par::JobBoard& board) {
    io::JobRecords records{board.n_jobs(), board.width(), {}, {}};
    board.snapshot(records.ids, records.rows);
    checkpoint.save_jobs(records);
    return records.ids.size();
}

} // namespace

std::vector<double> run_jobs(Context& ctx, const Jobs& jobs) {
    const auto& comm = ctx.comm;
    core::require(jobs.costs.size() == jobs.count && jobs.run,
                  "run_jobs: every job needs a cost and a run function");
    io::JobRecords restored = ctx.checkpoint.restore_jobs();
    if (!restored.ids.empty() &&
        (restored.n_jobs != jobs.count || restored.width != jobs.record_width))
        throw core::UsageError(fmt::format(
            "cannot restart from '{}': it holds records of {} jobs of width {}, this run has {} "
            "jobs of width {}",
            ctx.checkpoint.path(), restored.n_jobs, restored.width, jobs.count, jobs.record_width));
    std::vector<bool> finished(jobs.count, false);
    for (std::uint64_t id : restored.ids)
        finished[id] = true;
    if (ctx.checkpoint.restarting())
        core::log::info(fmt::format("{}: {} of {} jobs already done", jobs.label,
                                    restored.ids.size(), jobs.count));

    std::optional<par::JobBoard> board;
    board.emplace(comm, jobs.count, jobs.record_width, queue_of(jobs, finished, comm), jobs.dynamic,
                  restored.ids, restored.rows);
    const std::uint64_t every = ctx.checkpoint.every();
    const core::StopCheck stop_check = [] { return core::stop_signal_received(); };

    std::string failure;
    core::Progress progress(jobs.label, jobs.count, restored.ids.size(), "job");
    while (!core::stop_signal_received()) {
        const auto next = board->next();
        if (!next)
            break;
        const std::uint64_t job = *next;
        std::vector<double> record;
        try {
            record = jobs.run(job, stop_check);
        } catch (const core::Interrupted&) {
            break; // abandoned; the restart redoes it
        } catch (const core::NumericalError& error) {
            if (failure.empty())
                failure = fmt::format("job {} ({}): {}", job,
                                      jobs.describe ? jobs.describe(job) : "", error.what());
            continue;
        }
        core::require(record.size() == jobs.record_width, "run_jobs: a job's record has the "
                                                          "wrong width");
        const std::uint64_t done = board->finish(job, record);
        maybe_request_test_stop(done);
        if (every > 0 && done >= board->saved() + every && board->try_lock_writer()) {
            std::uint64_t saved = board->saved();
            try {
                saved = save_board(ctx.checkpoint, *board);
            } catch (const core::IoError& error) {
                // A periodic checkpoint that fails loses nothing computed: warn and go on.
                core::log::warn_local(fmt::format("checkpoint not written: {}", error.what()));
            }
            board->unlock_writer(saved);
        }
        progress.update(done, jobs.progress_name, record[jobs.progress_entry]);
    }
    if (core::stop_signal_received())
        board->raise_stop(); // the others stop at their next job

    // Every rank has stopped taking jobs. A stop anywhere stops everyone: save all finished
    // records, then exit 75.
    const bool stopped = par::any(comm, board->stop_seen() || core::stop_signal_received());
    std::vector<bool> done_flags;
    std::vector<double> table = board->table(done_flags);
    const auto n_done =
        static_cast<std::uint64_t>(std::count(done_flags.begin(), done_flags.end(), true));
    progress.finish(n_done);
    if (stopped) {
        std::string problem;
        if (comm.rank() == 0) {
            try {
                save_board(ctx.checkpoint, *board);
            } catch (const core::IoError& error) {
                problem = error.what();
            }
        }
        boost::mpi::broadcast(comm, problem, 0);
        if (!problem.empty())
            throw core::IoError("write the checkpoint of the stopped run", ctx.checkpoint.path(),
                                "", problem, core::Scope::collective);
        board.reset(); // collective
        throw core::StopRequested(fmt::format("after {} of {} jobs", n_done, jobs.count),
                                  ctx.checkpoint.path());
    }
    par::throw_if_any(comm, !failure.empty(), [&] {
        return core::NumericalError(failure.empty() ? "a job on another rank" : failure, -1,
                                    std::nan(""));
    });
    core::require(n_done == jobs.count, "run_jobs: a job was never done");
    board.reset();
    return table;
}

} // namespace moesim::experiments
