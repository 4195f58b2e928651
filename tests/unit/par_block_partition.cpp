#include "moesim/par/block_partition.hpp"

#include "moesim/core/error.hpp"

#include <doctest/doctest.h>

#include <vector>

using moesim::par::BlockPartition;
using moesim::par::IdRange;

namespace {
// Every id owned by exactly one rank, ranges contiguous in rank order, whole blocks only.
void check_cover(const BlockPartition& p) {
    std::vector<int> owners(p.n_items(), -1);
    std::uint64_t next = 0;
    for (int r = 0; r < p.nranks(); ++r) {
        const IdRange items = p.items_of(r);
        CHECK(items.begin == next);
        next = items.end;
        if (!items.empty()) {
            CHECK(items.begin % p.block_size() == 0);
            CHECK((items.end % p.block_size() == 0 || items.end == p.n_items()));
        }
        for (auto id = items.begin; id < items.end; ++id) {
            CHECK(owners[id] == -1);
            owners[id] = r;
            CHECK(p.owner_of_item(id) == r);
        }
    }
    CHECK(next == p.n_items());
    for (int o : owners)
        CHECK(o >= 0);
}
} // namespace

TEST_SUITE("par::BlockPartition") {
    TEST_CASE("every id is owned by exactly one rank, in whole blocks") {
        for (std::uint64_t n : {0u, 1u, 7u, 64u, 65u, 1000u})
            for (std::uint64_t bs : {1u, 3u, 64u})
                for (int nranks : {1, 2, 3, 4, 7, 130}) {
                    CAPTURE(n);
                    CAPTURE(bs);
                    CAPTURE(nranks);
                    check_cover(BlockPartition(n, bs, nranks));
                }
    }

    TEST_CASE("block counts per rank differ by at most one, lower ranks get the extra") {
        BlockPartition p(10 * 8 + 3, 8, 4); // 11 blocks over 4 ranks: 3 3 3 2
        CHECK(p.n_blocks() == 11);
        CHECK(p.blocks_of(0) == IdRange{0, 3});
        CHECK(p.blocks_of(1) == IdRange{3, 6});
        CHECK(p.blocks_of(2) == IdRange{6, 9});
        CHECK(p.blocks_of(3) == IdRange{9, 11});
        CHECK(p.items_of(3) == IdRange{72, 83}); // the short last block
        CHECK(p.items_in_block(10) == IdRange{80, 83});
    }

    TEST_CASE("more ranks than blocks leaves the higher ranks empty") {
        BlockPartition p(5, 2, 4); // blocks {0,1} {2,3} {4}
        CHECK(p.n_blocks() == 3);
        CHECK(p.items_of(0) == IdRange{0, 2});
        CHECK(p.items_of(2) == IdRange{4, 5});
        CHECK(p.items_of(3).empty());
        CHECK(p.blocks_of(3).empty());
        CHECK(p.owner_of_block(2) == 2);
    }

    TEST_CASE("the partition of blocks does not depend on the rank count") {
        for (int nranks = 1; nranks <= 5; ++nranks) {
            BlockPartition p(100, 16, nranks);
            for (std::uint64_t b = 0; b < p.n_blocks(); ++b)
                CHECK(p.items_in_block(b) ==
                      IdRange{b * 16, std::min<std::uint64_t>(b * 16 + 16, 100)});
        }
    }

    TEST_CASE("invalid arguments are internal errors") {
        CHECK_THROWS_AS(BlockPartition(10, 0, 2), moesim::core::InternalError);
        CHECK_THROWS_AS(BlockPartition(10, 4, 0), moesim::core::InternalError);
        BlockPartition p(10, 4, 2);
        CHECK_THROWS_AS(p.blocks_of(2), moesim::core::InternalError);
        CHECK_THROWS_AS(p.items_in_block(3), moesim::core::InternalError);
    }
}
