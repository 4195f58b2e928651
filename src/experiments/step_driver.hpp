#pragma once
// The step driver: runs a time-stepped experiment (mfld, sgd, routing, mean-field sweeps),
// which supplies only its physics: how to initialise, one step, what a frame records, and its
// state, registered once (LAMMPS' fix: the driver owns the time loop, the experiment never
// writes its own loop or restart file). The driver resumes from a checkpoint or initialises,
// checkpoints when due or on a stop signal, writes a frame every run.frame_every steps and
// after the last, shows progress, keeps per-phase timers under /timing/<phase>, makes the
// finite checks of a step collective (one Allreduce per step, shared with the stop flag),
// and prints the standard key figures.
// Users: time-stepped experiments.

#include "experiments/experiment.hpp"

#include "moesim/core/state_set.hpp"
#include "moesim/io/series.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::experiments {

/// Wall-clock seconds per named phase since the last frame (rank 0's are written). Local.
class PhaseTimers {
public:
    void add(std::string_view phase, double seconds);
    /// Runs `work` and adds its duration to `phase`.
    template <class Work> decltype(auto) time(std::string_view phase, Work&& work) {
        const auto start = std::chrono::steady_clock::now();
        struct Stop {
            PhaseTimers& timers;
            std::string_view phase;
            std::chrono::steady_clock::time_point start;
            ~Stop() {
                timers.add(phase,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                               .count());
            }
        } stop{*this, phase, start};
        return work();
    }
    double seconds(std::string_view phase) const;
    void reset();

private:
    std::map<std::string, double, std::less<>> seconds_;
};

/// What one step may report to the driver.
class StepScope {
public:
    explicit StepScope(PhaseTimers& timers) : timers_(timers) {}
    /// Notes the first non-finite entry of `values` (quantity `name`) for the driver's
    /// collective check, which fails the run at the next step boundary on every rank with a
    /// NumericalError naming the quantity and this step. Local; call it where the values are
    /// still raw (before a renormalisation could hide an overflow).
    void check_finite(std::string_view name, std::span<const double> values);
    void check_finite(std::string_view name, double value) { check_finite(name, {&value, 1}); }
    /// The phase timers of the run: a step may time its parts ("route", "vanilla").
    PhaseTimers& timers() noexcept { return timers_; }

    bool bad() const noexcept { return !bad_name_.empty(); }
    const std::string& bad_name() const noexcept { return bad_name_; }
    double bad_value() const noexcept { return bad_value_; }

private:
    PhaseTimers& timers_;
    std::string bad_name_;
    double bad_value_ = 0.0;
};

/// Frames of replicated series not yet written, by series path: the driver writes them in
/// one append_frames per series (path order, the same on every rank).
struct PendingFrames {
    std::vector<std::int64_t> steps;
    std::vector<double> times;
    std::vector<double> values;
};
using PendingSeries = std::map<std::string, PendingFrames, std::less<>>;

/// One frame of output: each named series is created at its first frame (collectively: every
/// rank writes the same names in the same order) and appended to at every frame.
class Frame {
public:
    Frame(io::OutputFile& output, std::int64_t step, double time,
          std::map<std::string, io::Series, std::less<>>& series, PendingSeries& pending)
        : output_(output), step_(step), time_(time), series_(series), pending_(pending) {}

    /// /observables/<name>: a value identical on every rank, of `shape` (empty: a scalar).
    /// Collective.
    void observable(const std::string& name, std::span<const double> values,
                    std::vector<std::uint64_t> shape);
    void observable(const std::string& name, double value) { observable(name, {&value, 1}, {}); }
    /// <group>/observables/<name> (group e.g. "/routers/aux_loss"), as observable(): for
    /// experiments that run several models side by side. Buffered: the driver writes it with
    /// the timing series every Steps::frames_per_write frames. Collective.
    void observable_in(const std::string& group, const std::string& name,
                       std::span<const double> values, std::vector<std::uint64_t> shape);
    void observable_in(const std::string& group, const std::string& name, double value) {
        observable_in(group, name, {&value, 1}, {});
    }
    /// /particles/<name>: rows by global id; this rank passes its own contiguous rows, ranks'
    /// ranges in rank order. Collective.
    void particles(const std::string& name, std::uint64_t n_global,
                   std::vector<std::uint64_t> row_shape, std::span<const double> local_rows);
    /// Throws NumericalError naming `name` and this step unless `value` is finite. For values
    /// identical on every rank (observables), so the throw is collective.
    void require_finite(std::string_view name, double value) const;
    /// The figure the progress line shows for this frame.
    void headline(std::string name, double value);

    std::int64_t step() const noexcept { return step_; }
    double time() const noexcept { return time_; }
    const std::string& headline_name() const noexcept { return headline_name_; }
    double headline_value() const noexcept { return headline_value_; }

private:
    io::Series& series(const std::string& path, bool distributed, std::uint64_t n_global,
                       std::vector<std::uint64_t> shape);
    io::OutputFile& output_;
    std::int64_t step_;
    double time_;
    std::map<std::string, io::Series, std::less<>>& series_;
    PendingSeries& pending_;
    std::string headline_name_;
    double headline_value_ = 0.0;
};

/// What a time-stepped experiment supplies to the step driver.
struct Steps {
    std::string label;    ///< progress label, e.g. "mfld"
    core::StateSet state; ///< saved by checkpoints, filled on a restart
    /// Phases a step times besides the driver's own "step" (the whole step) and "frame" (a
    /// whole frame and the writes of buffered series); all are written every frame under
    /// /timing/<phase>.
    std::vector<std::string> phases;
    /// Sets the state of a fresh run (not called on a restart). Collective.
    std::function<void()> initialize;
    /// Advances the state from step `step` to `step + 1`. Collective.
    std::function<void(std::uint64_t step, StepScope& scope)> step;
    /// Records the state before step `step` (and after the last). Collective.
    std::function<void(std::uint64_t step, Frame& frame)> frame;
    /// The physical time of step `step` written beside each frame (default: the step).
    std::function<double(std::uint64_t step)> time;
    /// Frames whose observable_in and timing series are buffered before one write per series
    /// (each write is collective metadata and I/O; the flush after it a file sync). The
    /// buffer is also written before a checkpoint (so a stop or restart loses nothing), before
    /// a failed finite check and after the last frame; a killed run's file may lack up to
    /// frames_per_write - 1 frames after its last checkpoint, which a restart recomputes.
    std::uint64_t frames_per_write = 1;
    /// If positive, the buffer is also written once this many seconds have passed since the
    /// last write (rank 0's clock, broadcast each frame): the output then lags the run by
    /// about this much at most, whatever the frame rate. The bytes written are the same.
    double write_every_seconds = 0;
    /// After the last frame: final tables (/estimates) and the experiment's key figures.
    /// Collective.
    std::function<std::vector<KeyFigure>()> finish;
};

/// Runs steps [first, run.steps) where first is 0 or the restart checkpoint's step. Returns
/// "frames written", the experiment's figures and "steps per second". Collective over
/// ctx.comm; throws core::StopRequested (exit 75) after checkpointing on a stop signal and
/// core::NumericalError when a finite check fails.
std::vector<KeyFigure> run_steps(Context& ctx, Steps steps);

} // namespace moesim::experiments
