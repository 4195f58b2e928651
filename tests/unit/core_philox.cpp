#include "moesim/core/philox.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <vector>

using moesim::core::Philox;

TEST_SUITE("core::Philox") {
    TEST_CASE("the same (seed, purpose, counter) gives the same bits") {
        Philox a(42, "test.stream"), b(42, "test.stream");
        for (std::uint64_t item : {0ull, 1ull, 1ull << 40})
            for (std::uint32_t step : {0u, 7u})
                CHECK(a.bits(item, step, 3) == b.bits(item, step, 3));
    }

    TEST_CASE("seeds, purposes and every counter field select different streams") {
        std::set<std::array<std::uint32_t, 4>> seen;
        const Philox base(42, "a");
        seen.insert(base.bits(0, 0, 0));
        seen.insert(Philox(43, "a").bits(0, 0, 0));
        seen.insert(Philox(42ull | (1ull << 32), "a").bits(0, 0, 0)); // high seed bits matter
        seen.insert(Philox(42, "b").bits(0, 0, 0));
        seen.insert(base.bits(1, 0, 0));
        seen.insert(base.bits(1ull << 32, 0, 0)); // high item bits matter
        seen.insert(base.bits(0, 1, 0));
        seen.insert(base.bits(0, 0, 1));
        CHECK(seen.size() == 8);
    }

    TEST_CASE("known-answer: the engine is Random123's Philox4x32-10") {
        // Random123's published known-answer vector for philox4x32_10 with zero key and counter.
        r123::Philox4x32 engine;
        const auto out = engine({{0, 0, 0, 0}}, {{0, 0}});
        CHECK(out[0] == 0x6627e8d5u);
        CHECK(out[1] == 0xe169c58du);
        CHECK(out[2] == 0xbc57ac4cu);
        CHECK(out[3] == 0x9b00dbd8u);
    }

    TEST_CASE("normals have mean 0 and variance 1 within sampling error") {
        const Philox rng(7, "test.normal");
        const std::size_t n = 200000;
        std::vector<double> z(n);
        rng.fill_normal(0, 0, z);
        double mean = 0, m2 = 0, m4 = 0;
        for (double v : z)
            mean += v;
        mean /= n;
        for (double v : z) {
            m2 += (v - mean) * (v - mean);
            m4 += std::pow(v - mean, 4);
        }
        m2 /= n;
        m4 /= n;
        // Standard errors: mean 1/sqrt(n), variance sqrt(2/n), fourth moment sqrt(96/n).
        CHECK(std::abs(mean) < 5 / std::sqrt(double(n)));
        CHECK(std::abs(m2 - 1) < 5 * std::sqrt(2.0 / n));
        CHECK(std::abs(m4 - 3) < 5 * std::sqrt(96.0 / n));
    }

    TEST_CASE("streams for different items are uncorrelated") {
        const Philox rng(11, "test.corr");
        const std::size_t n = 100000;
        double sxy = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto a = rng.normal_pair(2 * i, 5, 0);
            const auto b = rng.normal_pair(2 * i + 1, 5, 0);
            sxy += a[0] * b[0];
        }
        CHECK(std::abs(sxy / n) < 5 / std::sqrt(double(n)));
    }

    TEST_CASE("uniforms lie in the open interval and are uniform in mean and variance") {
        const Philox rng(3, "test.uniform");
        std::vector<double> u(100001); // odd length: the last pair is half used
        rng.fill_uniform(9, 2, u);
        double mean = 0, var = 0;
        for (double v : u) {
            CHECK((v > 0 && v < 1));
            mean += v;
        }
        mean /= u.size();
        for (double v : u)
            var += (v - mean) * (v - mean);
        var /= u.size();
        CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / 12 / u.size()));
        CHECK(std::abs(var - 1.0 / 12) < 5 * std::sqrt(1.0 / 180 / u.size()));
    }

    TEST_CASE("fill_normal is a prefix-stable layout of normal_pair draws") {
        const Philox rng(5, "test.layout");
        std::vector<double> z(5);
        rng.fill_normal(3, 4, z, 10);
        const auto p0 = rng.normal_pair(3, 4, 10), p2 = rng.normal_pair(3, 4, 12);
        CHECK(z[0] == p0[0]);
        CHECK(z[1] == p0[1]);
        CHECK(z[4] == p2[0]);
    }
}
