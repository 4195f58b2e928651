#include "testing.hpp"

#include "moesim/par/block_partition.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <vector>

using moesim::par::BlockPartition;

TEST_SUITE("par::BlockPartition over MPI") {
    TEST_CASE("the ranks' items cover every id exactly once") {
        const auto& comm = moesim::testing::world();
        // Includes more ranks than blocks (n=3, block 2 at 3-4 ranks) and zero items.
        for (std::uint64_t n : {0u, 3u, 17u, 1024u}) {
            CAPTURE(n);
            const BlockPartition p(n, 2, comm.size());
            const auto mine = p.items_of(comm.rank());
            std::vector<std::uint64_t> ids;
            for (auto id = mine.begin; id < mine.end; ++id)
                ids.push_back(id);
            std::vector<std::vector<std::uint64_t>> all;
            boost::mpi::all_gather(comm, ids, all);
            std::vector<int> seen(n, 0);
            for (const auto& from_rank : all)
                for (auto id : from_rank)
                    ++seen[id];
            bool once = true;
            for (int s : seen)
                once = once && s == 1;
            CHECK(once);
        }
    }
}

#include "moesim/par/all_gather_rows.hpp"

TEST_SUITE("par::all_gather_rows") {
    TEST_CASE("every rank receives every item's row in id order, also from ranks with none") {
        const auto& comm = moesim::testing::world();
        for (std::uint64_t n : {0u, 3u, 17u}) { // n=3, block 2: more ranks than blocks at 3-4
            CAPTURE(n);
            const BlockPartition p(n, 2, comm.size());
            const auto mine = p.items_of(comm.rank());
            std::vector<double> rows;
            for (auto id = mine.begin; id < mine.end; ++id)
                rows.insert(rows.end(), {double(id), -0.5 * double(id)});
            const auto all = moesim::par::all_gather_rows(comm, p, rows, 2);
            bool ok = all.size() == 2 * n;
            for (std::uint64_t id = 0; ok && id < n; ++id)
                ok = all[2 * id] == double(id) && all[2 * id + 1] == -0.5 * double(id);
            CHECK(ok);
        }
    }
}
