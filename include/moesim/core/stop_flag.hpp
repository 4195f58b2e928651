#pragma once
// Preemption: SIGUSR1 and SIGTERM only set a flag (async-signal-safe); the run polls it at
// step and job boundaries, agrees across ranks, checkpoints and exits 75. A second signal
// while the checkpoint is written just sets the flag again, so it cannot corrupt anything.
// Long computations inside one job (a fit) may poll a StopCheck between iterations and throw
// Interrupted, so a stop does not wait for them; the driver redoes such a job on restart.

#include <exception>
#include <functional>

namespace moesim::core {

/// Installs the handlers for SIGUSR1 and SIGTERM. Called once by main. Local.
void install_stop_handlers();

/// True once this process has received SIGUSR1 or SIGTERM. Local: ranks agree on it with
/// par::any at step boundaries.
bool stop_signal_received() noexcept;

/// Sets the flag as a signal would (for tests). Local.
void request_stop() noexcept;

/// Polled by long computations between iterations: true means "abandon this now". An empty
/// StopCheck never stops.
using StopCheck = std::function<bool()>;

/// Thrown out of a computation whose StopCheck said stop. Not an error: the caller (a
/// driver) discards the partial work and redoes it after a restart.
class Interrupted : public std::exception {
public:
    const char* what() const noexcept override { return "interrupted by a stop request"; }
};

/// Throws Interrupted if `check` is set and says stop. Local.
inline void throw_if_stopped(const StopCheck& check) {
    if (check && check())
        throw Interrupted();
}

} // namespace moesim::core
