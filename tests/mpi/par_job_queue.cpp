#include "testing.hpp"

#include "moesim/par/job_queue.hpp"
#include "moesim/par/job_schedule.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <numeric>
#include <thread>
#include <vector>

TEST_SUITE("par::JobQueue") {
    TEST_CASE("every job is taken exactly once, in the queue's order on each rank") {
        const auto& comm = moesim::testing::world();
        for (std::uint64_t n_jobs : {0u, 1u, 3u, 7u, 64u}) {
            CAPTURE(n_jobs);
            std::vector<double> costs;
            for (std::uint64_t job = 0; job < n_jobs; ++job)
                costs.push_back(static_cast<double>(job % 5));
            const auto order = moesim::par::order_by_decreasing_cost(costs);
            std::vector<std::uint64_t> mine;
            {
                moesim::par::JobQueue queue(comm, order);
                while (const auto job = queue.next()) {
                    mine.push_back(*job);
                    // Rank 0 is slow, so other ranks take more than their share.
                    if (comm.rank() == 0 && comm.size() > 1)
                        std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
                CHECK_FALSE(queue.next().has_value()); // stays empty
            }
            // A rank takes jobs in the queue's order.
            std::vector<std::size_t> positions;
            for (std::uint64_t job : mine)
                positions.push_back(static_cast<std::size_t>(
                    std::find(order.begin(), order.end(), job) - order.begin()));
            CHECK(std::is_sorted(positions.begin(), positions.end()));
            std::vector<std::vector<std::uint64_t>> per_rank;
            boost::mpi::all_gather(comm, mine, per_rank);
            std::vector<std::uint64_t> all;
            for (const auto& jobs : per_rank)
                all.insert(all.end(), jobs.begin(), jobs.end());
            std::sort(all.begin(), all.end());
            std::vector<std::uint64_t> expected(n_jobs);
            std::iota(expected.begin(), expected.end(), std::uint64_t{0});
            CHECK(moesim::testing::all_ranks(comm, all == expected));
        }
    }

    TEST_CASE("the order is by decreasing cost, ties by lower id") {
        const std::vector<double> costs{1.0, 3.0, 1.0, 2.0, 3.0};
        CHECK(moesim::par::order_by_decreasing_cost(costs) ==
              std::vector<std::uint64_t>{1, 4, 3, 0, 2});
    }
}
