// The paper's neuron h(z; theta) = R tanh(theta3) tanh(<theta1, z> + theta2): its gradient
// against central differences, and its bound |h| <= R.
#include "moesim/core/philox.hpp"
#include "moesim/model/scaled_tanh_neuron.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace moesim;

TEST_SUITE("model::ScaledTanhNeuron") {
    TEST_CASE("the gradient matches central differences in every coordinate") {
        const model::ScaledTanhNeuron neuron{.scale = 10.0};
        const core::Philox rng(3, "test.neuron");
        for (std::size_t d : {1u, 2u, 7u}) {
            for (std::uint64_t trial = 0; trial < 5; ++trial) {
                std::vector<double> theta(d + 2), z(d), gradient(d + 2);
                rng.fill_normal(trial, static_cast<std::uint32_t>(d), theta);
                rng.fill_normal(trial, static_cast<std::uint32_t>(100 + d), z);
                neuron.gradient(theta, z, gradient);
                for (std::size_t c = 0; c < d + 2; ++c) {
                    const double h = 1e-6;
                    auto plus = theta, minus = theta;
                    plus[c] += h;
                    minus[c] -= h;
                    const double fd = (neuron.value(plus, z) - neuron.value(minus, z)) / (2 * h);
                    CAPTURE(d);
                    CAPTURE(trial);
                    CAPTURE(c);
                    CHECK(gradient[c] == doctest::Approx(fd).epsilon(1e-7).scale(1.0));
                }
            }
        }
    }

    TEST_CASE("the output is R tanh(theta3) tanh(a), so bounded by R") {
        const model::ScaledTanhNeuron neuron{.scale = 10.0};
        const std::vector<double> theta = {0.5, -1.0, 0.25,
                                           2.0}; // theta1 = (0.5, -1), theta2, theta3
        const std::vector<double> z = {1.5, 0.5};
        const double a = 0.5 * 1.5 - 1.0 * 0.5 + 0.25;
        CHECK(neuron.value(theta, z) == doctest::Approx(10.0 * std::tanh(2.0) * std::tanh(a)));
        const std::vector<double> saturated = {50.0, 0.0, 0.0, 50.0};
        CHECK(std::abs(neuron.value(saturated, z)) <= 10.0);
        CHECK(neuron.value(saturated, z) == doctest::Approx(10.0));
    }
}
