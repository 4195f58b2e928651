#include "moesim/core/progress.hpp"

#include "moesim/core/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
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
} // namespace

Progress::Progress(std::string label, std::uint64_t total, std::uint64_t first)
    : label_(std::move(label)), total_(total), first_(std::min(first, total)), enabled_(log::verbose()),
      live_(enabled_ && isatty(STDERR_FILENO) == 1), start_(Clock::now()), last_draw_(start_) {}

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string Progress::format_line(std::uint64_t done, std::string_view name, double value) const {
    const double elapsed = elapsed_seconds();
    const double rate = elapsed > 0 ? static_cast<double>(done - std::min(done, first_)) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
    return fmt::format(
        "{} step {}/{} ({:3.0f}%)  {:.3g} steps/s  elapsed {}  ETA {}  {} {:.6g}", label_, done,
        total_, total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
        rate, clock_text(elapsed), clock_text(eta), name, value);
}

void Progress::update(std::uint64_t done, std::string_view figure_name, double figure_value) {
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
    std::fprintf(stderr, "%s finished %llu steps in %s\n", label_.c_str(),
                 static_cast<unsigned long long>(total_ - first_), clock_text(elapsed_seconds()).c_str());
    std::fflush(stderr);
}

} // namespace moesim::core
