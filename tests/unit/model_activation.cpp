// Activations: every named one parses back to itself, and sigma' (alone and from
// activate_with_derivative) matches a central difference of sigma; he2 is the normalised
// second Hermite polynomial.
#include "moesim/model/activation.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace moesim;

TEST_CASE("activation derivatives match finite differences") {
    for (const std::string& name : model::activation_names()) {
        const model::Activation a = model::parse_activation(name);
        for (double z : {-2.3, -0.7, 0.4, 1.9}) {
            const double h = 1e-6;
            const double numeric =
                (model::activate(a, z + h) - model::activate(a, z - h)) / (2 * h);
            double value = 0, derivative = 0;
            model::activate_with_derivative(a, z, value, derivative);
            CAPTURE(name);
            CAPTURE(z);
            CHECK(model::activate_derivative(a, z) == doctest::Approx(numeric).epsilon(1e-6));
            CHECK(value == model::activate(a, z));
            CHECK(derivative == model::activate_derivative(a, z));
        }
    }
}

TEST_CASE("he2 is (z^2 - 1)/sqrt(2): mean 0 and variance 1 under N(0, 1)") {
    const model::Activation he2 = model::parse_activation("he2");
    CHECK(model::activate(he2, 1.0) == 0.0);
    CHECK(model::activate(he2, 0.0) == doctest::Approx(-1.0 / std::sqrt(2.0)));
    CHECK(model::activate(he2, 3.0) == doctest::Approx(8.0 / std::sqrt(2.0)));
    // E[He2] = 0 and E[He2^2] = 1 by Gauss-Hermite quadrature (3 nodes are exact to degree 5).
    const double nodes[3] = {-std::sqrt(3.0), 0.0, std::sqrt(3.0)};
    const double weights[3] = {1.0 / 6, 2.0 / 3, 1.0 / 6};
    double mean = 0, second = 0;
    for (int i = 0; i < 3; ++i) {
        const double s = model::activate(he2, nodes[i]);
        mean += weights[i] * s;
        second += weights[i] * s * s;
    }
    CHECK(mean == doctest::Approx(0.0).epsilon(1e-12));
    CHECK(second == doctest::Approx(1.0));
}
