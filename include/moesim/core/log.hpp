#pragma once
// Messages for people: rank 0 only, so a 1000-rank job prints each line once. `main` sets the
// rank and quietness once; everything else calls info/warn. Errors are not printed here:
// they are thrown, and `main` reports them.

#include <string_view>

namespace moesim::core::log {

/// Called once by main (and test mains): this process's rank, and whether info is silenced.
void configure(int rank, bool quiet);
/// True on the rank that prints (rank 0).
bool is_root() noexcept;
/// True if info messages and progress are shown (rank 0 and not --quiet).
bool verbose() noexcept;
/// An informational line on stdout (rank 0, not quiet).
void info(std::string_view message);
/// A warning on stderr, "moesim: warning: ..." (rank 0, even when quiet). Repeats of the
/// same text after the tenth are counted, not printed.
void warn(std::string_view message);
/// A warning seen by this rank alone, "[rank r] moesim: warning: ...", on any rank (even when
/// quiet), for conditions other ranks do not share. Repeats are limited as for warn().
void warn_local(std::string_view message);

} // namespace moesim::core::log
