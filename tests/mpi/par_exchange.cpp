#include "testing.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/exchange.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {
struct Record {
    std::uint64_t global_id;
    std::int32_t from_rank;
    std::int32_t to_rank;
    double payload[3];
};

// How many records rank `from` sends to rank `to`: irregular, zero for some pairs.
std::uint64_t count_for(int from, int to, int nranks) {
    if (from == nranks - 1 && nranks > 1)
        return 0; // the last rank sends nothing at all
    return static_cast<std::uint64_t>((from * 7 + to * 3) % 5);
}

double payload_of(std::uint64_t id, int k) {
    return static_cast<double>(id) * 0.5 + k;
}
} // namespace

TEST_SUITE("par::exchange") {
    TEST_CASE("records arrive grouped by source rank, in the order sent, intact") {
        const auto& comm = moesim::testing::world();
        const int nranks = comm.size(), rank = comm.rank();
        std::vector<Record> send;
        std::vector<std::uint64_t> counts(nranks);
        for (int to = 0; to < nranks; ++to) {
            counts[to] = count_for(rank, to, nranks);
            for (std::uint64_t i = 0; i < counts[to]; ++i) {
                const std::uint64_t id = (static_cast<std::uint64_t>(rank) << 32) | (to << 8) | i;
                send.push_back(
                    {id, rank, to, {payload_of(id, 0), payload_of(id, 1), payload_of(id, 2)}});
            }
        }
        const auto got = moesim::par::exchange(comm, send, counts);
        std::size_t k = 0;
        bool ok = got.counts.size() == static_cast<std::size_t>(nranks);
        for (int from = 0; from < nranks && ok; ++from) {
            ok = ok && got.counts[from] == count_for(from, rank, nranks);
            for (std::uint64_t i = 0; i < got.counts[from]; ++i, ++k) {
                const auto& r = got.records[k];
                const std::uint64_t id = (static_cast<std::uint64_t>(from) << 32) | (rank << 8) | i;
                ok = ok && r.global_id == id && r.from_rank == from && r.to_rank == rank &&
                     r.payload[0] == payload_of(id, 0) && r.payload[2] == payload_of(id, 2);
            }
        }
        CHECK(ok);
        CHECK(k == got.records.size());
    }

    TEST_CASE("round trip: records sent back to their owners return unchanged") {
        const auto& comm = moesim::testing::world();
        const int nranks = comm.size(), rank = comm.rank();
        // Rank r owns ids r*10 .. r*10+9 except rank 0, which owns none; each record goes to
        // rank (id % nranks) and comes back, as in dispatch/combine.
        std::vector<std::vector<Record>> by_dest(nranks);
        if (rank != 0)
            for (std::uint64_t id = rank * 10; id < rank * 10u + 10; ++id)
                by_dest[id % nranks].push_back({id, rank, int(id % nranks), {double(id), 0, 0}});
        std::vector<Record> send;
        std::vector<std::uint64_t> counts;
        for (auto& v : by_dest) {
            counts.push_back(v.size());
            send.insert(send.end(), v.begin(), v.end());
        }
        const auto there = moesim::par::exchange(comm, send, counts);
        std::vector<Record> reply = there.records;
        for (auto& r : reply)
            r.payload[1] = r.payload[0] * 2; // "expert compute"
        const auto back = moesim::par::exchange(comm, reply, there.counts);
        bool ok = back.records.size() == send.size();
        for (std::size_t i = 0; ok && i < send.size(); ++i)
            ok = back.records[i].global_id == send[i].global_id &&
                 back.records[i].payload[1] == 2 * double(send[i].global_id);
        CHECK(ok);
    }

    TEST_CASE("an exchange in which nobody sends anything completes") {
        const auto& comm = moesim::testing::world();
        std::vector<Record> none;
        std::vector<std::uint64_t> zeros(comm.size(), 0);
        const auto got = moesim::par::exchange(comm, none, zeros);
        CHECK(got.records.empty());
        CHECK(got.counts == zeros);
    }

    TEST_CASE("counts that disagree with the rank count are an internal error") {
        const auto& comm = moesim::testing::world();
        std::vector<Record> none;
        std::vector<std::uint64_t> wrong(comm.size() + 1, 0);
        CHECK_THROWS_AS(moesim::par::exchange(comm, none, wrong), moesim::core::InternalError);
    }
}

TEST_SUITE("par::exchange_into") {
    TEST_CASE("reusing the receive buffer and known receive counts give the same records") {
        const auto& comm = moesim::testing::world();
        const int nranks = comm.size(), rank = comm.rank();
        moesim::par::Received<Record> received;
        for (int round = 0; round < 3; ++round) {
            // Rank r sends (r + to + round) % 3 records to rank `to`: loads change per round.
            std::vector<Record> send;
            std::vector<std::uint64_t> counts(nranks), expected(nranks);
            for (int to = 0; to < nranks; ++to) {
                counts[to] = static_cast<std::uint64_t>((rank + to + round) % 3);
                expected[to] = static_cast<std::uint64_t>((to + rank + round) % 3);
                for (std::uint64_t i = 0; i < counts[to]; ++i)
                    send.push_back({i, rank, to, {double(round), double(i), 0}});
            }
            const auto fresh = moesim::par::exchange(comm, send, counts);
            moesim::par::exchange_into(comm, std::span<const Record>(send), counts, received);
            bool same = received.counts == fresh.counts && received.counts == expected &&
                        received.records.size() == fresh.records.size();
            for (std::size_t k = 0; same && k < fresh.records.size(); ++k)
                same = std::memcmp(&received.records[k], &fresh.records[k], sizeof(Record)) == 0;
            CHECK(same);
            // The receiver knows its counts (here: by symmetry): no count exchange, same result.
            moesim::par::Received<Record> known;
            moesim::par::exchange_into(comm, std::span<const Record>(send), counts,
                                       std::span<const std::uint64_t>(expected), known);
            bool same_known = known.records.size() == fresh.records.size();
            for (std::size_t k = 0; same_known && k < fresh.records.size(); ++k)
                same_known = std::memcmp(&known.records[k], &fresh.records[k], sizeof(Record)) == 0;
            CHECK(same_known);
        }
    }

    TEST_CASE("counts that do not add up to the records sent are an internal error") {
        const auto& comm = moesim::testing::world();
        std::vector<Record> one(1);
        std::vector<std::uint64_t> zeros(comm.size(), 0);
        moesim::par::Received<Record> received;
        CHECK_THROWS_AS(moesim::par::exchange_into(comm, std::span<const Record>(one), zeros,
                                                   std::span<const std::uint64_t>(zeros), received),
                        moesim::core::InternalError);
    }
}
