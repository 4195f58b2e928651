#include "moesim/core/stop_flag.hpp"

#include <csignal>

namespace moesim::core {

namespace {
volatile std::sig_atomic_t stop_flag = 0;

extern "C" void on_stop_signal(int) { stop_flag = 1; }
} // namespace

void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART; // interrupted MPI or file calls resume rather than fail
    sigaction(SIGUSR1, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool stop_signal_received() noexcept { return stop_flag != 0; }

void request_stop() noexcept { stop_flag = 1; }

} // namespace moesim::core
