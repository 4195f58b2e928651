#include "testing.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/par/gather_by_id.hpp"
#include "moesim/par/job_schedule.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace {
double value_of(std::uint64_t id, std::size_t k) {
    return moesim::core::Philox(5, "test.records").normal_pair(id, 0, std::uint32_t(k))[0];
}
} // namespace

TEST_SUITE("par::gather_by_id") {
    TEST_CASE("records come back in id order on every rank, whatever the schedule") {
        const auto& comm = moesim::testing::world();
        // n = 2 at 3-4 ranks: some ranks hold nothing; n = 0: nobody does.
        for (std::uint64_t n_jobs : {0u, 2u, 7u, 50u}) {
            CAPTURE(n_jobs);
            std::vector<double> costs;
            for (std::uint64_t job = 0; job < n_jobs; ++job)
                costs.push_back(static_cast<double>(1 + job % 5));
            const auto schedule = moesim::par::schedule_by_cost(costs, comm.size());
            const auto mine = moesim::par::jobs_of(schedule, comm.rank());
            const std::size_t width = 3;
            // Local order must not matter: hand the records over in reverse.
            std::vector<std::uint64_t> ids(mine.rbegin(), mine.rend());
            std::vector<double> reversed;
            for (std::uint64_t id : ids)
                for (std::size_t k = 0; k < width; ++k)
                    reversed.push_back(value_of(id, k));
            const auto all = moesim::par::allgather_by_id(comm, ids, reversed, width, n_jobs);
            std::vector<double> expected;
            for (std::uint64_t id = 0; id < n_jobs; ++id)
                for (std::size_t k = 0; k < width; ++k)
                    expected.push_back(value_of(id, k));
            CHECK(moesim::testing::all_ranks(
                comm,
                all.size() == expected.size() &&
                    std::memcmp(all.data(), expected.data(), all.size() * sizeof(double)) == 0));
        }
    }

    TEST_CASE("a missing record is the same error on every rank") {
        const auto& comm = moesim::testing::world();
        std::vector<std::uint64_t> ids;
        std::vector<double> rows;
        if (comm.rank() == 0) {
            ids = {0};
            rows = {1.0};
        }
        CHECK_THROWS_AS(moesim::par::allgather_by_id(comm, ids, rows, 1, 2),
                        moesim::core::InternalError);
    }

    TEST_CASE("the greedy schedule assigns every job once and balances cost") {
        const std::vector<double> costs{10, 10, 1, 1, 1, 1, 5, 5, 2, 20};
        for (int nranks = 1; nranks <= 5; ++nranks) {
            const auto owner = moesim::par::schedule_by_cost(costs, nranks);
            std::vector<double> load(static_cast<std::size_t>(nranks), 0.0);
            std::size_t assigned = 0;
            for (int r = 0; r < nranks; ++r)
                for (std::uint64_t job : moesim::par::jobs_of(owner, r)) {
                    load[static_cast<std::size_t>(r)] += costs[job];
                    ++assigned;
                }
            CHECK(assigned == costs.size());
            // LPT: the most loaded rank exceeds the least loaded by at most the largest job.
            CHECK(*std::max_element(load.begin(), load.end()) -
                      *std::min_element(load.begin(), load.end()) <=
                  20.0);
        }
        // The largest job goes first, to rank 0.
        CHECK(moesim::par::schedule_by_cost(costs, 3)[9] == 0);
    }
}
