#include "moesim/core/progress.hpp"

#include "moesim/core/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

namespace moesim::core {

namespace {
std::string clock_text(double seconds) {
    if (!(seconds >= 0) || seconds > 1e7)
        return "--:--";
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s >= 3600)
        return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
    return fmt::format("{:02}:{:02}", s / 60, s % 60);
}
// A live line only makes sense on a terminal someone is watching. Run directly, that is
// stderr. Under mpirun, a rank's stderr is a pipe to the launcher and Open MPI puts ranks in
// their own process groups (seen with Open MPI 4.1), so ask instead whether the launcher (our
// parent) is the foreground job of the controlling terminal: true for an interactive
// `mpirun ...`, false in a batch job (no terminal) or a backgrounded one.
// MOESIM_PROGRESS=live|lines overrides the guess.
bool interactive_terminal() {
    if (const char* forced = std::getenv("MOESIM_PROGRESS"))
        return std::string_view(forced) == "live";
    if (isatty(STDERR_FILENO) == 1)
        return true;
    const bool under_launcher =
        std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
    if (!under_launcher)
        return false;
    const int tty = open("/dev/tty", O_RDONLY | O_NOCTTY);
    if (tty < 0)
        return false;
    const bool foreground = tcgetpgrp(tty) == getpgid(getppid());
    close(tty);
    return foreground;
}

} // namespace

Progress::Progress(std::string label, std::uint64_t total, std::uint64_t first, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      first_(std::min(first, total)), last_done_(first_), enabled_(log::verbose()),
      live_(enabled_ && interactive_terminal()), start_(Clock::now()), last_draw_(start_) {}

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string Progress::format_line(std::uint64_t done, std::string_view name, double value) const {
    const double elapsed = elapsed_seconds();
    const double rate =
        elapsed > 0 ? static_cast<double>(done - std::min(done, first_)) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
    return fmt::format(
        "{} {} {}/{} ({:3.0f}%)  {:.3g} {}s/s  elapsed {}  ETA {}  {} {:.6g}", label_, unit_, done,
        total_, total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
        rate, unit_, clock_text(elapsed), clock_text(eta), name, value);
}

void Progress::update(std::uint64_t done, std::string_view figure_name, double figure_value) {
    last_done_ = done;
    if (!enabled_ || finished_)
        return;
    const auto now = Clock::now();
    if (live_) {
        if (now - last_draw_ < std::chrono::milliseconds(200) && done < total_)
            return;
        last_draw_ = now;
        std::fprintf(stderr, "\r\033[K%s", format_line(done, figure_name, figure_value).c_str());
        std::fflush(stderr);
        return;
    }
    // Plain lines at each 10% of the run: readable in a batch job's log.
    if (total_ == 0 || done * 10 < next_decile_ * total_)
        return;
    while (next_decile_ <= 10 && done * 10 >= next_decile_ * total_)
        ++next_decile_;
    std::fprintf(stderr, "%s\n", format_line(done, figure_name, figure_value).c_str());
    std::fflush(stderr);
}

void Progress::finish() {
    if (!enabled_ || finished_)
        return;
    finished_ = true;
    if (live_)
        std::fprintf(stderr, "\n");
    if (last_done_ >= total_)
        std::fprintf(stderr, "%s finished %llu %ss in %s\n", label_.c_str(),
                     static_cast<unsigned long long>(total_ - first_), unit_.c_str(),
                     clock_text(elapsed_seconds()).c_str());
    else
        std::fprintf(stderr, "%s stopped after %llu %ss (%llu of %llu) in %s\n", label_.c_str(),
                     static_cast<unsigned long long>(last_done_ - std::min(last_done_, first_)),
                     unit_.c_str(), static_cast<unsigned long long>(last_done_),
                     static_cast<unsigned long long>(total_),
                     clock_text(elapsed_seconds()).c_str());
    std::fflush(stderr);
}

} // namespace moesim::core
