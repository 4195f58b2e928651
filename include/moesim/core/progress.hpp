#pragma once
// Progress of a long run, for the person watching it: on a terminal a live line
// (step/total, rate, ETA, one key figure) redrawn at most 5 times a second; in a log file
// (batch jobs) a plain line every 10% of the run. "On a terminal" includes an interactive
// mpirun, whose ranks write to a pipe; MOESIM_PROGRESS=live|lines overrides the guess.
// Rank 0 only; silent with --quiet.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace moesim::core {

/// Reports progress of one loop of `total` steps. Local; does nothing unless log::verbose().
class Progress {
public:
    /// `first` is the step the loop starts at (non-zero when resuming a run); `unit` names
    /// what is counted ("step", "job").
    Progress(std::string label, std::uint64_t total, std::uint64_t first = 0,
             std::string unit = "step");
    /// Steps completed so far and the key figure to show (e.g. "objective", 0.123).
    void update(std::uint64_t done, std::string_view figure_name, double figure_value);
    /// Ends the live line and prints the total time (or how far it got, if it stopped early).
    void finish();
    /// finish() after `done` steps in all (an update that draws nothing).
    void finish(std::uint64_t done) {
        last_done_ = done;
        finish();
    }
    /// Seconds since construction.
    double elapsed_seconds() const;

private:
    using Clock = std::chrono::steady_clock;
    std::string format_line(std::uint64_t done, std::string_view name, double value) const;

    std::string label_, unit_;
    std::uint64_t total_, first_, last_done_;
    bool enabled_, live_;
    Clock::time_point start_, last_draw_;
    std::uint64_t next_decile_ = 1;
    bool finished_ = false;
};

} // namespace moesim::core
