#include "testing.hpp"

#include "moesim/core/philox.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

using moesim::par::BlockPartition;

namespace {
// Values spanning many magnitudes, so the association order changes the last bits.
double value_of(std::uint64_t id, std::size_t k) {
    const auto u = moesim::core::Philox(99, "test.sum").uniform_pair(id, 0, std::uint32_t(k));
    return (u[0] - 0.5) * std::pow(10.0, 12 * u[1] - 6);
}

// The reference: the same fixed association computed serially (blocks in id order, then
// block partials in block order), written independently of par.
std::vector<double> serial_sum(std::uint64_t n, std::uint64_t block, std::size_t width) {
    std::vector<double> total(width, 0.0);
    for (std::uint64_t b0 = 0; b0 < n; b0 += block) {
        std::vector<double> partial(width, 0.0);
        for (std::uint64_t id = b0; id < std::min(n, b0 + block); ++id)
            for (std::size_t k = 0; k < width; ++k)
                partial[k] += value_of(id, k);
        for (std::size_t k = 0; k < width; ++k)
            total[k] += partial[k];
    }
    return total;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
} // namespace

TEST_SUITE("par::deterministic_sum") {
    TEST_CASE("the sum has the same bits for every rank count and on every rank") {
        const auto& comm = moesim::testing::world();
        // n=5, block 4 at 3-4 ranks: more ranks than blocks, some ranks own nothing.
        for (std::uint64_t n : {0u, 5u, 1000u, 4099u}) {
            for (std::size_t width : {1u, 3u}) {
                CAPTURE(n);
                CAPTURE(width);
                const BlockPartition p(n, 4, comm.size());
                const auto mine = p.items_of(comm.rank());
                std::vector<double> rows;
                for (auto id = mine.begin; id < mine.end; ++id)
                    for (std::size_t k = 0; k < width; ++k)
                        rows.push_back(value_of(id, k));
                const auto sum = moesim::par::deterministic_sum(comm, p, rows, width);
                CHECK(same_bits(sum, serial_sum(n, 4, width)));
                std::vector<double> root = sum;
                boost::mpi::broadcast(comm, root, 0);
                CHECK(same_bits(sum, root));
            }
        }
    }

    TEST_CASE("a plain left-to-right sum of the same values differs in the last bits") {
        // Guards the test above against values too tame to detect a reordering.
        const std::uint64_t n = 4099;
        double plain = 0;
        for (std::uint64_t id = 0; id < n; ++id)
            plain += value_of(id, 0);
        CHECK(plain != serial_sum(n, 4, 1)[0]);
        CHECK(std::abs(plain - serial_sum(n, 4, 1)[0]) < 1e-9 * std::abs(plain) + 1e-3);
    }
}
