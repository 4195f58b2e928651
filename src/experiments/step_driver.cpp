#include "experiments/step_driver.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/progress.hpp"
#include "moesim/par/communicator.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace moesim::experiments {

void PhaseTimers::add(std::string_view phase, double seconds) {
    auto it = seconds_.find(phase);
    if (it == seconds_.end())
        it = seconds_.emplace(std::string(phase), 0.0).first;
    it->second += seconds;
}

double PhaseTimers::seconds(std::string_view phase) const {
    const auto it = seconds_.find(phase);
    return it == seconds_.end() ? 0.0 : it->second;
}

void PhaseTimers::reset() {
    for (auto& [phase, seconds] : seconds_)
        seconds = 0.0;
}

void StepScope::check_finite(std::string_view name, std::span<const double> values) {
    if (bad())
        return;
    for (double v : values)
        if (!std::isfinite(v)) {
            bad_name_ = std::string(name);
            bad_value_ = v;
            return;
        }
}

io::Series& Frame::series(const std::string& path, bool distributed, std::uint64_t n_global,
                          std::vector<std::uint64_t> shape) {
    auto it = series_.find(path);
    if (it == series_.end()) {
        auto created = distributed
                           ? io::Series::distributed(output_, path, n_global, std::move(shape))
                           : io::Series::replicated(output_, path, std::move(shape));
        it = series_.emplace(path, std::move(created)).first;
    }
    return it->second;
}

void Frame::observable(const std::string& name, std::span<const double> values,
                       std::vector<std::uint64_t> shape) {
    series("/observables/" + name, false, 0, std::move(shape)).append(step_, time_, values);
}

void Frame::observable_in(const std::string& group, const std::string& name,
                          std::span<const double> values, std::vector<std::uint64_t> shape) {
    const std::string path = group + "/observables/" + name;
    series(path, false, 0, std::move(shape));
    PendingFrames& pending = pending_[path];
    pending.steps.push_back(step_);
    pending.times.push_back(time_);
    pending.values.insert(pending.values.end(), values.begin(), values.end());
}

void Frame::particles(const std::string& name, std::uint64_t n_global,
                      std::vector<std::uint64_t> row_shape, std::span<const double> local_rows) {
    series("/particles/" + name, true, n_global, std::move(row_shape))
        .append(step_, time_, local_rows);
}

void Frame::require_finite(std::string_view name, double value) const {
    if (!std::isfinite(value))
        throw core::NumericalError(std::string(name), step_, value);
}

void Frame::headline(std::string name, double value) {
    headline_name_ = std::move(name);
    headline_value_ = value;
}

namespace {

// The collective failure of a finite check: the lowest rank that saw a bad value names it.
core::NumericalError finite_failure(const boost::mpi::communicator& comm, const StepScope& scope,
                                    std::uint64_t step) {
    int reporter = scope.bad() ? comm.rank() : comm.size();
    reporter = boost::mpi::all_reduce(comm, reporter, boost::mpi::minimum<int>());
    std::string name = scope.bad_name();
    double value = scope.bad_value();
    boost::mpi::broadcast(comm, name, reporter);
    boost::mpi::broadcast(comm, value, reporter);
    return core::NumericalError(name, static_cast<long long>(step), value);
}

} // namespace

std::vector<KeyFigure> run_steps(Context& ctx, Steps steps) {
    const core::Config& cfg = ctx.config;
    const auto n_steps = static_cast<std::uint64_t>(cfg.integer("run.steps"));
    const auto frame_every = static_cast<std::uint64_t>(cfg.integer("run.frame_every"));
    core::require(static_cast<bool>(steps.step) && static_cast<bool>(steps.frame),
                  "run_steps: an experiment needs a step and a frame");
    const auto time_of = [&](std::uint64_t step) {
        return steps.time ? steps.time(step) : static_cast<double>(step);
    };

    const std::uint64_t first_step = ctx.checkpoint.restart_step().value_or(0);
    if (ctx.checkpoint.restarting())
        ctx.checkpoint.restore(steps.state);
    else if (steps.initialize)
        steps.initialize();

    std::map<std::string, io::Series, std::less<>> series;
    PendingSeries pending;
    std::uint64_t pending_frames = 0;
    core::require(steps.frames_per_write >= 1, "run_steps: frames_per_write must be positive");
    std::vector<std::string> phases = steps.phases;
    phases.insert(phases.begin(), "step");
    phases.push_back("frame");
    PhaseTimers timers;
    core::Progress progress(steps.label, n_steps, first_step);
    // Frames in the output: a restart's output holds those before its checkpoint's step.
    std::uint64_t frames = ctx.checkpoint.restart_frames();

    // Whether the buffered frames are due: frames_per_write of them, or write_every_seconds
    // since the last write by rank 0's clock (broadcast, so every rank agrees).
    auto last_write = std::chrono::steady_clock::now();
    auto write_due = [&](std::uint64_t pending_count) {
        if (pending_count >= steps.frames_per_write)
            return true;
        if (steps.write_every_seconds <= 0)
            return false;
        bool due = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_write)
                       .count() >= steps.write_every_seconds;
        boost::mpi::broadcast(ctx.comm, due, 0);
        return due;
    };
    // Writes the buffered frames, one append per series in path order, and flushes once.
    auto write_pending = [&] {
        if (pending_frames == 0)
            return;
        for (auto& [path, frames_of] : pending) {
            series.at(path).append_frames(frames_of.steps, frames_of.times, frames_of.values,
                                          false);
            frames_of = {};
        }
        ctx.output.flush();
        pending_frames = 0;
        last_write = std::chrono::steady_clock::now();
        frames = series.at("/timing/step").frames();
    };
    auto write_frame = [&](std::uint64_t step) {
        const auto start = std::chrono::steady_clock::now();
        Frame frame(ctx.output, static_cast<std::int64_t>(step), time_of(step), series, pending);
        steps.frame(step, frame);
        timers.add("frame",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        for (const std::string& phase : phases) {
            const std::string path = "/timing/" + phase;
            if (series.find(path) == series.end())
                series.emplace(path, io::Series::replicated(ctx.output, path, {}));
            PendingFrames& p = pending[path];
            p.steps.push_back(frame.step());
            p.times.push_back(frame.time());
            p.values.push_back(timers.seconds(phase));
        }
        timers.reset();
        // The write counts as frame time (of the next frame interval: this one's is taken).
        if (write_due(++pending_frames))
            timers.time("frame", write_pending);
        progress.update(step, frame.headline_name(), frame.headline_value());
    };

    StepScope scope(timers);
    for (std::uint64_t step = first_step; step < n_steps; ++step) {
        // One Allreduce per step: the stop flag and the previous step's finite checks.
        const bool checkpoint_due = ctx.checkpoint.due(step, scope.bad());
        if (ctx.checkpoint.any_bad()) {
            write_pending();
            throw finite_failure(ctx.comm, scope, step - 1);
        }
        if (checkpoint_due) {
            write_pending();
            ctx.checkpoint.save(step, frames, steps.state);
        }
        if (step % frame_every == 0)
            write_frame(step);
        timers.time("step", [&] { steps.step(step, scope); });
    }
    if (n_steps > first_step) {
        ctx.checkpoint.agree(scope.bad());
        if (ctx.checkpoint.any_bad()) {
            write_pending();
            throw finite_failure(ctx.comm, scope, n_steps - 1);
        }
    }
    write_frame(n_steps);
    write_pending();
    progress.finish();

    std::vector<KeyFigure> figures{{"frames written", fmt::format("{}", frames)}};
    if (steps.finish) {
        const auto own = steps.finish();
        figures.insert(figures.end(), own.begin(), own.end());
    }
    figures.push_back(
        {"steps per second", fmt::format("{:.4g}", static_cast<double>(n_steps - first_step) /
                                                       progress.elapsed_seconds())});
    return figures;
}

} // namespace moesim::experiments
