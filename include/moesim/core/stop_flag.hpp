#pragma once
// Preemption: SIGUSR1 and SIGTERM only set a flag (async-signal-safe); the run polls it at
// step boundaries, agrees across ranks, checkpoints and exits 75. A second signal while the
// checkpoint is written just sets the flag again, so it cannot corrupt anything.

namespace moesim::core {

/// Installs the handlers for SIGUSR1 and SIGTERM. Called once by main. Local.
void install_stop_handlers();

/// True once this process has received SIGUSR1 or SIGTERM. Local: ranks agree on it with
/// par::any at step boundaries.
bool stop_signal_received() noexcept;

/// Sets the flag as a signal would (for tests). Local.
void request_stop() noexcept;

} // namespace moesim::core
