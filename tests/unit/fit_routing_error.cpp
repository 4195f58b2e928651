// The top-1 routing error (fit/routing_error): the N(0, s^2) mass of the inputs routed to
// another cell than the truth's, against the closed form |Phi(t^/s) - Phi(t*/s)| for two
// experts with boundaries t^ and t*.

#include "moesim/fit/routing_error.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

using moesim::model::MoeParams;

namespace {

double phi_cdf(double z) {
    return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

// Two experts, expert 0 wins where slope x + bias > 0, i.e. above t = -bias / slope.
MoeParams two(double slope, double bias) {
    MoeParams p = MoeParams::zeros(2, 1);
    p.gate_slope << slope, 0.0;
    p.gate_bias << bias, 0.0;
    p.variance.setOnes();
    return p;
}

} // namespace

TEST_SUITE("fit::routing_error") {
    TEST_CASE("two experts: the mass between the fitted and the true boundary") {
        const MoeParams truth = two(25.0, -8.0); // t* = 0.32
        CHECK(moesim::fit::top1_routing_error(truth, {0, 1}, truth, 1.0) == 0.0);
        // The same boundary with other slopes and biases: not an error (not identified).
        CHECK(moesim::fit::top1_routing_error(two(50.0, -16.0), {0, 1}, truth, 1.0) == 0.0);
        const MoeParams fitted = two(20.0, -7.0); // t^ = 0.35
        for (double s : {1.0, 2.0})
            CHECK(moesim::fit::top1_routing_error(fitted, {0, 1}, truth, s) ==
                  doctest::Approx(phi_cdf(0.35 / s) - phi_cdf(0.32 / s)).epsilon(1e-12));
        // Relabelled fit (expert 0 of the fit is true expert 1): the same error.
        MoeParams swapped = MoeParams::zeros(2, 1);
        swapped.gate_slope << -20.0, 0.0;
        swapped.gate_bias << 7.0, 0.0;
        CHECK(moesim::fit::top1_routing_error(swapped, {1, 0}, truth, 1.0) ==
              doctest::Approx(phi_cdf(0.35) - phi_cdf(0.32)).epsilon(1e-12));
        // Every input misrouted: the error is 1.
        CHECK(moesim::fit::top1_routing_error(truth, {1, 0}, truth, 1.0) ==
              doctest::Approx(1.0).epsilon(1e-15));
    }

    TEST_CASE("a split cell: two fitted experts of one true cell share its region") {
        const MoeParams truth = two(25.0, -8.0);
        // Fitted experts 0 and 2 both belong to true cell 0 and split x > 0.32 at x = 1;
        // expert 1 (cell 1) wins below 0.32: no error. Moving expert 1's boundary to 0.3 misroutes
        // (0.3, 0.32).
        MoeParams fitted = MoeParams::zeros(3, 1);
        fitted.gate_slope << 30.0, 0.0, 25.0;
        fitted.gate_bias << -13.0, 0.0, -8.0; // 0 beats 2 above x = 1; 2 beats 1 above 0.32
        fitted.variance.setOnes();
        CHECK(moesim::fit::top1_routing_error(fitted, {0, 1, 0}, truth, 1.0) ==
              doctest::Approx(0.0).scale(1.0).epsilon(1e-15));
        fitted.gate_bias(2) = -7.5; // 2 beats 1 above 0.3
        CHECK(moesim::fit::top1_routing_error(fitted, {0, 1, 0}, truth, 1.0) ==
              doctest::Approx(phi_cdf(0.32) - phi_cdf(0.3)).epsilon(1e-12));
    }
}
