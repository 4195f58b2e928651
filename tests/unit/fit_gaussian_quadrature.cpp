#include "moesim/fit/gaussian_quadrature.hpp"

#include "moesim/core/error.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

TEST_SUITE("fit::gaussian_quadrature") {
    TEST_CASE("the q-point rule integrates t^m exp(-t^2) exactly for every degree m <= 2q - 1") {
        for (Eigen::Index q : {1, 2, 3, 4, 5, 7, 10, 16, 20, 33, 48, 64, 100, 200}) {
            CAPTURE(q);
            const auto rule = moesim::fit::gauss_hermite(q);
            REQUIRE(rule.nodes.size() == q);
            CHECK((rule.weights.array() > 0.0).all());
            for (Eigen::Index i = 1; i < q; ++i)
                CHECK(rule.nodes(i) > rule.nodes(i - 1));
            // Degrees past ~80 only test the growth of t^m: exact values overflow Gamma soon.
            for (Eigen::Index m = 0; m <= std::min<Eigen::Index>(2 * q - 1, 80); ++m) {
                CAPTURE(m);
                const double sum = (rule.weights.array() * rule.nodes.array().pow(double(m))).sum();
                if (m % 2 == 1) {
                    // Odd moments vanish: nodes are symmetric to the last bit.
                    CHECK(std::abs(sum) <= 1e-300 + 1e-13 * std::tgamma(0.5 * double(m + 1) + 0.5));
                } else {
                    const double exact = std::tgamma(0.5 * double(m) + 0.5);
                    CHECK(sum == doctest::Approx(exact).epsilon(1e-12));
                }
            }
        }
    }

    TEST_CASE("small rules match their textbook nodes and weights") {
        const auto one = moesim::fit::gauss_hermite(1);
        CHECK(one.nodes(0) == 0.0);
        CHECK(one.weights(0) == doctest::Approx(std::sqrt(std::numbers::pi)).epsilon(1e-15));
        const auto two = moesim::fit::gauss_hermite(2);
        CHECK(two.nodes(1) == doctest::Approx(1.0 / std::numbers::sqrt2).epsilon(1e-15));
        CHECK(two.nodes(0) == -two.nodes(1));
        CHECK(two.weights(0) == doctest::Approx(std::sqrt(std::numbers::pi) / 2).epsilon(1e-15));
        const auto three = moesim::fit::gauss_hermite(3);
        CHECK(three.nodes(1) == 0.0);
        CHECK(three.nodes(2) == doctest::Approx(std::sqrt(1.5)).epsilon(1e-15));
        CHECK(three.weights(1) ==
              doctest::Approx(2.0 * std::sqrt(std::numbers::pi) / 3).epsilon(1e-15));
    }

    TEST_CASE("the standard-normal rule gives E Z^(2s) = (2s - 1)!! and E exp(Z) = exp(1/2)") {
        const auto rule = moesim::fit::standard_normal_rule(40);
        CHECK(rule.weights.sum() == doctest::Approx(1.0).epsilon(1e-14));
        double double_factorial = 1.0;
        for (int s = 1; s <= 20; ++s) {
            double_factorial *= double(2 * s - 1);
            const double moment = (rule.weights.array() * rule.nodes.array().pow(2.0 * s)).sum();
            CHECK(moment == doctest::Approx(double_factorial).epsilon(1e-12));
        }
        // Not a polynomial: converges spectrally.
        CHECK((rule.weights.array() * rule.nodes.array().exp()).sum() ==
              doctest::Approx(std::exp(0.5)).epsilon(1e-14));
    }

    TEST_CASE("the q-point Gauss-Legendre rule integrates t^m on [-1, 1] exactly for m <= 2q - 1") {
        for (Eigen::Index q : {1, 2, 3, 5, 8, 13, 40, 100}) {
            CAPTURE(q);
            const auto rule = moesim::fit::gauss_legendre(q);
            CHECK((rule.weights.array() > 0.0).all());
            CHECK((rule.nodes.array().abs() < 1.0).all());
            for (Eigen::Index m = 0; m <= 2 * q - 1; ++m) {
                const double sum = (rule.weights.array() * rule.nodes.array().pow(double(m))).sum();
                CHECK(sum == doctest::Approx(m % 2 ? 0.0 : 2.0 / double(m + 1)).epsilon(1e-13));
            }
        }
    }

    TEST_CASE("the composite normal rule is exact to rounding across breakpoints and kinks") {
        const auto whole = moesim::fit::normal_panel_rule(-9.0, 9.0, {}, 0.05);
        CHECK(whole.weights.sum() == doctest::Approx(1.0).epsilon(1e-15));
        CHECK((whole.weights.array() * whole.nodes.array().square()).sum() ==
              doctest::Approx(1.0).epsilon(1e-14));
        // P(Z > 0.3) and E |Z - 0.3|, a step and a kink at a breakpoint.
        const auto cut = moesim::fit::normal_panel_rule(-9.0, 9.0, {0.3, 20.0}, 0.5);
        const double tail = 0.5 * std::erfc(0.3 / std::numbers::sqrt2);
        const double phi = std::exp(-0.045) / std::sqrt(2 * std::numbers::pi);
        double step = 0.0, kink = 0.0;
        for (Eigen::Index i = 0; i < cut.nodes.size(); ++i) {
            step += cut.weights(i) * (cut.nodes(i) > 0.3 ? 1.0 : 0.0);
            kink += cut.weights(i) * std::abs(cut.nodes(i) - 0.3);
        }
        CHECK(step == doctest::Approx(tail).epsilon(1e-14));
        // E|Z - c| = 2 phi(c) + c (2 Phi(c) - 1).
        CHECK(kink == doctest::Approx(2 * phi + 0.3 * (1 - 2 * tail)).epsilon(1e-14));
    }

    TEST_CASE("rule sizes outside 1..400 are internal errors") {
        CHECK_THROWS_AS(moesim::fit::gauss_hermite(0), moesim::core::InternalError);
        CHECK_THROWS_AS(moesim::fit::gauss_hermite(401), moesim::core::InternalError);
    }
}
