#include "moesim/core/log.hpp"

#include <cstdio>
#include <map>
#include <string>

namespace moesim::core::log {

namespace {
int this_rank = 0;
bool quiet_mode = false;
std::map<std::string, int, std::less<>> warning_counts;
constexpr int max_repeats = 10;
} // namespace

void configure(int rank, bool quiet) {
    this_rank = rank;
    quiet_mode = quiet;
}

bool is_root() noexcept {
    return this_rank == 0;
}
bool verbose() noexcept {
    return this_rank == 0 && !quiet_mode;
}

void info(std::string_view message) {
    if (!verbose())
        return;
    std::fprintf(stdout, "%.*s\n", static_cast<int>(message.size()), message.data());
    std::fflush(stdout);
}

namespace {
void print_warning(std::string_view prefix, std::string_view message) {
    const int seen = ++warning_counts[std::string(message)];
    if (seen > max_repeats)
        return;
    std::fprintf(stderr, "%.*smoesim: warning: %.*s%s\n", static_cast<int>(prefix.size()),
                 prefix.data(), static_cast<int>(message.size()), message.data(),
                 seen == max_repeats ? " (further repeats not shown)" : "");
}
} // namespace

void warn(std::string_view message) {
    if (is_root())
        print_warning("", message);
}

void warn_local(std::string_view message) {
    print_warning("[rank " + std::to_string(this_rank) + "] ", message);
}

} // namespace moesim::core::log
