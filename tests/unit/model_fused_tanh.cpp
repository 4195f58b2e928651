#include "model/fused_tanh.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using moesim::model::impl::tanh_accumulate;
using moesim::model::impl::tanh_value;

namespace {

double ulps(double value, double exact) {
    if (value == exact)
        return 0;
    return std::abs(value - exact) / std::abs(std::nextafter(exact, 2 * exact) - exact);
}

} // namespace

TEST_SUITE("model::impl::tanh_accumulate") {
    TEST_CASE("tanh is within 6 ulp of std::tanh from 1e-300 to 40, both signs") {
        std::mt19937_64 gen(17);
        std::uniform_real_distribution<double> log_abs(std::log(1e-300), std::log(40.0));
        double worst = 0;
        for (int i = 0; i < 2000000; ++i) {
            const double z = (i % 2 ? -1 : 1) * std::exp(log_abs(gen));
            worst = std::max(worst, ulps(tanh_value(z), std::tanh(z)));
        }
        // Dense where the two formulas meet: around 2|z| = ln(2)/2 and the cap.
        for (double z = 0.15; z < 0.2; z += 1e-7)
            worst = std::max(worst, ulps(tanh_value(z), std::tanh(z)));
        CHECK(worst <= 6);
    }

    TEST_CASE("signed zeros, infinities and NaN are kept") {
        CHECK(tanh_value(0.0) == 0.0);
        CHECK(std::signbit(tanh_value(-0.0)));
        CHECK(tanh_value(std::numeric_limits<double>::infinity()) == 1.0);
        CHECK(tanh_value(-std::numeric_limits<double>::infinity()) == -1.0);
        CHECK(tanh_value(25.0) == 1.0);
        CHECK(std::isnan(tanh_value(std::numeric_limits<double>::quiet_NaN())));
        CHECK(std::isnan(tanh_value(-std::numeric_limits<double>::quiet_NaN())));
    }

    TEST_CASE("each element's bits are tanh_value's, whatever the length and offset") {
        // Lengths and offsets that send elements down vector bodies and scalar tails alike.
        std::mt19937_64 gen(5);
        std::normal_distribution<double> normal(0.0, 3.0);
        std::vector<double> z(203), sums0(203), sums(203), derivative(203);
        for (std::size_t i = 0; i < z.size(); ++i) {
            z[i] = normal(gen);
            sums0[i] = normal(gen);
        }
        z[17] = std::numeric_limits<double>::quiet_NaN();
        for (std::size_t offset : {0u, 1u, 3u})
            for (std::size_t n : {1u, 2u, 5u, 8u, 31u, 199u}) {
                sums = sums0;
                tanh_accumulate(z.data() + offset, n, sums.data() + offset, derivative.data());
                bool same = true;
                for (std::size_t i = 0; i < n; ++i) {
                    const double a = tanh_value(z[offset + i]);
                    const double sum = sums0[offset + i] + a, d = 1.0 - a * a;
                    same = same && std::memcmp(&sums[offset + i], &sum, sizeof sum) == 0 &&
                           std::memcmp(&derivative[i], &d, sizeof d) == 0;
                }
                CAPTURE(offset);
                CAPTURE(n);
                CHECK(same);
            }
    }
}
