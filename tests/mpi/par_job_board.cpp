#include "testing.hpp"

#include "moesim/par/job_board.hpp"
#include "moesim/par/job_schedule.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <thread>
#include <vector>

namespace {

// A record that is a pure function of the job id.
std::vector<double> record_of(std::uint64_t job, std::size_t width) {
    std::vector<double> record(width);
    for (std::size_t i = 0; i < width; ++i)
        record[i] = static_cast<double>(job) * 10.0 + static_cast<double>(i) + 0.25;
    return record;
}

std::vector<std::uint64_t> all_jobs_taken(const boost::mpi::communicator& comm,
                                          const std::vector<std::uint64_t>& mine) {
    std::vector<std::vector<std::uint64_t>> per_rank;
    boost::mpi::all_gather(comm, mine, per_rank);
    std::vector<std::uint64_t> all;
    for (const auto& jobs : per_rank)
        all.insert(all.end(), jobs.begin(), jobs.end());
    std::sort(all.begin(), all.end());
    return all;
}

} // namespace

TEST_SUITE("par::JobBoard") {
    TEST_CASE("every job is taken exactly once, in the queue's order, and its record lands by id") {
        const auto& comm = moesim::testing::world();
        constexpr std::size_t width = 3;
        for (std::uint64_t n_jobs : {0u, 1u, 3u, 7u, 64u}) {
            CAPTURE(n_jobs);
            std::vector<double> costs;
            for (std::uint64_t job = 0; job < n_jobs; ++job)
                costs.push_back(static_cast<double>(job % 5));
            const auto order = moesim::par::order_by_decreasing_cost(costs);
            std::vector<std::uint64_t> mine;
            std::vector<double> table;
            std::vector<bool> done;
            {
                moesim::par::JobBoard board(comm, n_jobs, width, order, true, {}, {});
                while (const auto job = board.next()) {
                    mine.push_back(*job);
                    CHECK(board.finish(*job, record_of(*job, width)) <= n_jobs);
                    // Rank 0 is slow, so other ranks take more than their share.
                    if (comm.rank() == 0 && comm.size() > 1)
                        std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
                CHECK_FALSE(board.next().has_value()); // stays empty
                CHECK_FALSE(board.stop_seen());
                table = board.table(done);
            }
            std::vector<std::size_t> positions;
            for (std::uint64_t job : mine)
                positions.push_back(static_cast<std::size_t>(
                    std::find(order.begin(), order.end(), job) - order.begin()));
            CHECK(std::is_sorted(positions.begin(), positions.end()));
            std::vector<std::uint64_t> expected(n_jobs);
            std::iota(expected.begin(), expected.end(), std::uint64_t{0});
            CHECK(moesim::testing::all_ranks(comm, all_jobs_taken(comm, mine) == expected));
            REQUIRE(table.size() == n_jobs * width);
            CHECK(std::all_of(done.begin(), done.end(), [](bool d) { return d; }));
            for (std::uint64_t job = 0; job < n_jobs; ++job)
                CHECK(std::equal(table.begin() + static_cast<long>(job * width),
                                 table.begin() + static_cast<long>((job + 1) * width),
                                 record_of(job, width).begin()));
        }
    }

    TEST_CASE("a static schedule runs each rank's own list and gives the same table") {
        const auto& comm = moesim::testing::world();
        constexpr std::size_t width = 2;
        const std::vector<double> costs{5, 1, 4, 2, 2, 8, 0, 3, 1};
        const auto schedule = moesim::par::schedule_by_cost(costs, comm.size());
        const auto own = moesim::par::jobs_of(schedule, comm.rank());
        std::vector<std::uint64_t> mine;
        std::vector<bool> done;
        std::vector<double> table;
        {
            moesim::par::JobBoard board(comm, costs.size(), width, own, false, {}, {});
            while (const auto job = board.next()) {
                mine.push_back(*job);
                board.finish(*job, record_of(*job, width));
            }
            table = board.table(done);
        }
        CHECK(mine == own);
        for (std::uint64_t job = 0; job < costs.size(); ++job) {
            CHECK(done[job]);
            CHECK(table[job * width + 1] == record_of(job, width)[1]);
        }
    }

    TEST_CASE("restored jobs count as done and keep their records; the rest run") {
        const auto& comm = moesim::testing::world();
        constexpr std::size_t width = 2;
        const std::uint64_t n_jobs = 10;
        const std::vector<std::uint64_t> finished{7, 2, 5};
        std::vector<double> finished_rows;
        for (std::uint64_t job : finished) {
            const auto r = record_of(job, width);
            finished_rows.insert(finished_rows.end(), r.begin(), r.end());
        }
        const std::vector<std::uint64_t> queue{0, 1, 3, 4, 6, 8, 9};
        std::vector<std::uint64_t> mine;
        std::vector<bool> done;
        std::vector<double> table;
        std::uint64_t saved = 0;
        {
            moesim::par::JobBoard board(comm, n_jobs, width, queue, true, finished, finished_rows);
            saved = board.saved();
            while (const auto job = board.next()) {
                mine.push_back(*job);
                board.finish(*job, record_of(*job, width));
            }
            table = board.table(done);
        }
        CHECK(saved == finished.size());
        CHECK(moesim::testing::all_ranks(comm, all_jobs_taken(comm, mine) == queue));
        for (std::uint64_t job = 0; job < n_jobs; ++job) {
            CHECK(done[job]);
            CHECK(table[job * width] == record_of(job, width)[0]);
        }
    }

    TEST_CASE(
        "a stop raised by one rank ends every rank's queue; the snapshot holds what was done") {
        const auto& comm = moesim::testing::world();
        constexpr std::size_t width = 1;
        const std::uint64_t n_jobs = 1000;
        std::vector<std::uint64_t> order(n_jobs);
        std::iota(order.begin(), order.end(), std::uint64_t{0});
        std::vector<std::uint64_t> mine;
        std::vector<bool> done;
        std::vector<double> table;
        bool seen = false;
        {
            moesim::par::JobBoard board(comm, n_jobs, width, order, true, {}, {});
            while (const auto job = board.next()) {
                mine.push_back(*job);
                const std::uint64_t total = board.finish(*job, record_of(*job, width));
                if (comm.rank() == comm.size() - 1 && total >= 5)
                    board.raise_stop();
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
            seen = board.stop_seen();
            std::vector<std::uint64_t> ids;
            std::vector<double> rows;
            board.snapshot(ids, rows);
            CHECK(std::is_sorted(ids.begin(), ids.end()));
            CHECK(rows.size() == ids.size() * width);
            table = board.table(done);
        }
        CHECK(seen);
        const auto all = all_jobs_taken(comm, mine);
        // Every rank stops soon after the flag: far fewer than all jobs ran.
        CHECK(all.size() < n_jobs / 2);
        std::vector<bool> expected(n_jobs, false);
        for (std::uint64_t job : all)
            expected[job] = true;
        CHECK(done == expected);
    }

    TEST_CASE("one rank at a time holds the writer lock") {
        const auto& comm = moesim::testing::world();
        moesim::par::JobBoard board(comm, 4, 1, {}, true, {}, {});
        // Every rank tries in turn; only the first succeeds while nobody releases.
        int acquired = 0;
        for (int turn = 0; turn < comm.size(); ++turn) {
            if (turn == comm.rank())
                acquired = board.try_lock_writer() ? 1 : 0;
            comm.barrier();
        }
        CHECK(boost::mpi::all_reduce(comm, acquired, std::plus<int>()) == 1);
        if (acquired == 1)
            board.unlock_writer(3);
        comm.barrier();
        CHECK(board.saved() == 3);
        // Released: the last rank gets it now.
        bool again = false;
        if (comm.rank() == comm.size() - 1) {
            again = board.try_lock_writer();
            board.unlock_writer(3);
        }
        CHECK(boost::mpi::all_reduce(comm, again ? 1 : 0, std::plus<int>()) == 1);
    }

    TEST_CASE("the order is by decreasing cost, ties by lower id") {
        const std::vector<double> costs{1.0, 3.0, 1.0, 2.0, 3.0};
        CHECK(moesim::par::order_by_decreasing_cost(costs) ==
              std::vector<std::uint64_t>{1, 4, 3, 0, 2});
    }
}
