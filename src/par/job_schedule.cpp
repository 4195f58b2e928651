#include "moesim/par/job_schedule.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <numeric>

namespace moesim::par {

std::vector<std::uint64_t> order_by_decreasing_cost(std::span<const double> costs) {
    for (double cost : costs)
        core::require(cost >= 0.0, "job costs must be nonnegative numbers");
    std::vector<std::uint64_t> order(costs.size());
    std::iota(order.begin(), order.end(), std::uint64_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint64_t a, std::uint64_t b) { return costs[a] > costs[b]; });
    return order;
}

std::vector<int> schedule_by_cost(std::span<const double> costs, int nranks) {
    core::require(nranks > 0, "schedule_by_cost: nranks must be positive");
    const auto order = order_by_decreasing_cost(costs);
    std::vector<double> load(static_cast<std::size_t>(nranks), 0.0);
    std::vector<int> owner(costs.size(), 0);
    for (std::uint64_t job : order) {
        const auto least = std::min_element(load.begin(), load.end()); // first minimum
        *least += costs[job];
        owner[job] = static_cast<int>(least - load.begin());
    }
    return owner;
}

std::vector<std::uint64_t> jobs_of(const std::vector<int>& schedule, int rank) {
    std::vector<std::uint64_t> jobs;
    for (std::size_t job = 0; job < schedule.size(); ++job)
        if (schedule[job] == rank)
            jobs.push_back(job);
    return jobs;
}

} // namespace moesim::par
