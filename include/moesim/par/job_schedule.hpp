#pragma once
// A static schedule for independent jobs of uneven cost (the rates experiment's (n,
// replicate) fits): longest-processing-time-first greedy, which is within 4/3 of the best
// makespan. The schedule decides only who computes a job, never what it computes, so results
// gathered by job id do not depend on it.
// Users: the rates experiment.

#include <cstdint>
#include <span>
#include <vector>

namespace moesim::par {

/// Job ids by decreasing cost, ties by lower id: the order of the static schedule, and the
/// order a JobQueue hands jobs out in. Local and deterministic. Throws InternalError if a
/// cost is negative or NaN.
std::vector<std::uint64_t> order_by_decreasing_cost(std::span<const double> costs);

/// The owner rank of each job: jobs in order of decreasing cost (ties by lower id) go to
/// the rank with the least assigned cost so far (ties to the lower rank). Local and
/// deterministic. Throws InternalError if nranks <= 0 or a cost is negative or NaN.
std::vector<int> schedule_by_cost(std::span<const double> costs, int nranks);

/// The jobs `schedule` gives to `rank`, in increasing id order. Local.
std::vector<std::uint64_t> jobs_of(const std::vector<int>& schedule, int rank);

} // namespace moesim::par
