#include "moesim/core/normal_rows.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

using moesim::core::fill_normal_rows;
using moesim::core::Philox;

namespace {

std::vector<double> normal_rows(const Philox& rng, std::uint64_t first, std::uint32_t step,
                                std::size_t rows, std::size_t cols) {
    std::vector<double> out(rows * cols);
    fill_normal_rows(rng, first, step, rows, cols, out);
    return out;
}

// The documented mapping, written independently with libm: element c of item's row.
double reference(const Philox& rng, std::uint64_t item, std::uint32_t step, std::size_t c) {
    const auto b = rng.bits(item, step, static_cast<std::uint32_t>(c / 2));
    const auto hi52 = [](std::uint32_t lo, std::uint32_t hi) {
        return static_cast<double>(((std::uint64_t{hi} << 32) | lo) >> 12);
    };
    const double u = (hi52(b[0], b[1]) + 0.5) / 0x1p52, v = (hi52(b[2], b[3]) + 0.5) / 0x1p52;
    const double radius = std::sqrt(-2.0 * std::log(u));
    return radius * (c % 2 == 0 ? std::cos(2 * M_PI * v) : std::sin(2 * M_PI * v));
}

double normal_cdf(double z) {
    return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// Pearson correlation of two equally long samples.
double correlation(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / std::sqrt(sxx * syy);
}

} // namespace

TEST_SUITE("core::fill_normal_rows") {
    TEST_CASE("each value is Box-Muller of its own counter's Philox bits (libm to 1e-13)") {
        // Also checks the vectorised Philox4x32-10 against Random123's (Philox::bits).
        const Philox rng(7, "test.normal_rows");
        for (std::size_t cols : {1u, 2u, 7u, 16u, 257u}) {
            const std::size_t rows = 37;
            const auto out = normal_rows(rng, 1000, 3, rows, cols);
            double worst = 0;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t c = 0; c < cols; ++c)
                    worst = std::max(worst,
                                     std::abs(out[r * cols + c] - reference(rng, 1000 + r, 3, c)));
            CAPTURE(cols);
            CHECK(worst < 1e-13);
        }
        // High item bits reach the counter.
        const auto far = normal_rows(rng, (1ull << 40) + 5, 9, 1, 4);
        for (std::size_t c = 0; c < 4; ++c)
            CHECK(std::abs(far[c] - reference(rng, (1ull << 40) + 5, 9, c)) < 1e-13);
    }

    TEST_CASE("a row's normals do not depend on the other rows of the call") {
        const Philox rng(11, "test.normal_rows");
        for (std::size_t cols : {1u, 3u, 16u, 64u, 255u, 256u, 300u}) {
            const std::size_t rows = 21;
            const auto all = normal_rows(rng, 40, 2, rows, cols);
            const auto middle = normal_rows(rng, 45, 2, 9, cols);
            bool same = true;
            for (std::size_t r = 0; r < rows; ++r) {
                const auto one = normal_rows(rng, 40 + r, 2, 1, cols);
                same = same && std::equal(one.begin(), one.end(), all.begin() + r * cols);
            }
            same = same && std::equal(middle.begin(), middle.end(), all.begin() + 5 * cols);
            CAPTURE(cols);
            CHECK(same); // bitwise: what the mfld step's rank-count independence rests on
        }
    }

    TEST_CASE("normals are standard normal: moments, Kolmogorov-Smirnov, chi-square, tails") {
        const Philox rng(3, "test.normal_rows");
        std::vector<double> z = normal_rows(rng, 0, 0, 4096, 256); // n = 2^20
        const double n = static_cast<double>(z.size());
        double mean = 0;
        for (double v : z)
            mean += v;
        mean /= n;
        double m2 = 0, m3 = 0, m4 = 0;
        for (double v : z) {
            const double d = v - mean;
            m2 += d * d;
            m3 += d * d * d;
            m4 += d * d * d * d;
        }
        m2 /= n;
        m3 /= n;
        m4 /= n;
        // Five standard errors: mean 1/sqrt(n), variance sqrt(2/n), third moment sqrt(15/n),
        // fourth moment sqrt(96/n).
        CHECK(std::abs(mean) < 5 / std::sqrt(n));
        CHECK(std::abs(m2 - 1) < 5 * std::sqrt(2 / n));
        CHECK(std::abs(m3) < 5 * std::sqrt(15 / n));
        CHECK(std::abs(m4 - 3) < 5 * std::sqrt(96 / n));

        // Kolmogorov-Smirnov against Phi: sqrt(n) D < 1.95, the 0.1% critical value.
        std::sort(z.begin(), z.end());
        double d_max = 0;
        for (std::size_t i = 0; i < z.size(); ++i) {
            const double f = normal_cdf(z[i]);
            d_max = std::max(
                {d_max, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
        }
        CHECK(std::sqrt(n) * d_max < 1.95);

        // Chi-square over 64 equiprobable bins (63 degrees of freedom): below 63 + 5 sqrt(126),
        // five standard deviations above its mean.
        std::vector<double> counts(64, 0.0);
        for (double v : z)
            counts[std::min<std::size_t>(63, static_cast<std::size_t>(64 * normal_cdf(v)))] += 1;
        double chi2 = 0;
        for (double c : counts)
            chi2 += (c - n / 64) * (c - n / 64) / (n / 64);
        CHECK(chi2 < 63 + 5 * std::sqrt(126.0));

        // Tails: P(|z| > 4) = 6.334e-5, count within five binomial standard deviations.
        const double p4 = std::erfc(4 / std::sqrt(2.0));
        const auto beyond = static_cast<double>(
            std::count_if(z.begin(), z.end(), [](double v) { return std::abs(v) > 4; }));
        CHECK(std::abs(beyond - n * p4) < 5 * std::sqrt(n * p4));
    }

    TEST_CASE("normals are uncorrelated across items, steps, draws and within a pair") {
        const Philox rng(5, "test.normal_rows");
        const std::size_t rows = 8192, cols = 32;
        const auto s0 = normal_rows(rng, 0, 0, rows + 1, cols);
        const auto s1 = normal_rows(rng, 0, 1, rows, cols);
        std::vector<double> x, next_item, next_step, pair_mate, next_draw, x2, mate2;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c + 2 < cols; c += 2) {
                const double v = s0[r * cols + c];
                x.push_back(v);
                next_item.push_back(s0[(r + 1) * cols + c]);
                next_step.push_back(s1[r * cols + c]);
                pair_mate.push_back(s0[r * cols + c + 1]);
                next_draw.push_back(s0[r * cols + c + 2]);
                x2.push_back(v * v);
                mate2.push_back(s0[r * cols + c + 1] * s0[r * cols + c + 1]);
            }
        const double bound = 5 / std::sqrt(static_cast<double>(x.size()));
        CHECK(std::abs(correlation(x, next_item)) < bound); // particle i vs i + 1
        CHECK(std::abs(correlation(x, next_step)) < bound); // step s vs s + 1
        CHECK(std::abs(correlation(x, pair_mate)) < bound); // cos and sin of one counter
        CHECK(std::abs(correlation(x2, mate2)) < bound); // ... independent, not just uncorrelated
        CHECK(std::abs(correlation(x, next_draw)) < bound); // draw k vs k + 1
    }

    TEST_CASE("a wrong output size is an InternalError") {
        std::vector<double> out(5);
        CHECK_THROWS(fill_normal_rows(Philox(1, "x"), 0, 0, 2, 3, out));
    }
}
