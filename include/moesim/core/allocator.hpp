#pragma once
// Keeps freed large blocks in the process heap. EM iterations and training steps allocate
// and free the same n x k temporaries (megabytes each) many times a second; glibc serves
// blocks above 128 KiB with mmap and unmaps them on free, so every reuse page-faults fresh
// zeroed pages (a third of an EM fit's time at n = 1e5 went to the kernel). Users: the
// moesim command and the benchmarks, once at start-up.

namespace moesim::core {

/// Raises glibc's mmap and trim thresholds so large blocks are recycled, not unmapped.
/// Idempotent; a no-op without glibc.
void keep_freed_memory();

} // namespace moesim::core
