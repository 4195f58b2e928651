#pragma once
// Scalar activation functions with their derivatives, selected by name from a config.
// Users: mean-field networks, two-layer experts, activation gates.

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// A pointwise nonlinearity sigma and its derivative.
enum class Activation { tanh, sigmoid, relu, gelu, he2 };

/// Names as written in configs: "tanh", "sigmoid", "relu", "gelu", "he2" (the normalised
/// second Hermite polynomial (z^2 - 1)/sqrt(2), matched to an He_2 link).
std::vector<std::string> activation_names();
/// Parses a name; throws core::InternalError on an unknown one (configs validate first).
Activation parse_activation(std::string_view name);

/// sigma(z). Local.
inline double activate(Activation a, double z) noexcept {
    switch (a) {
    case Activation::tanh:
        return std::tanh(z);
    case Activation::sigmoid:
        return 1.0 / (1.0 + std::exp(-z));
    case Activation::relu:
        return z > 0 ? z : 0.0;
    case Activation::gelu:
        return 0.5 * z * (1.0 + std::erf(z * M_SQRT1_2));
    case Activation::he2:
        return (z * z - 1.0) * M_SQRT1_2;
    }
    return 0.0;
}

/// sigma'(z) (relu: 1 for z > 0, else 0). Local.
inline double activate_derivative(Activation a, double z) noexcept {
    switch (a) {
    case Activation::tanh: {
        const double t = std::tanh(z);
        return 1.0 - t * t;
    }
    case Activation::sigmoid: {
        const double s = 1.0 / (1.0 + std::exp(-z));
        return s * (1.0 - s);
    }
    case Activation::relu:
        return z > 0 ? 1.0 : 0.0;
    case Activation::gelu:
        return 0.5 * (1.0 + std::erf(z * M_SQRT1_2)) +
               z * std::exp(-0.5 * z * z) * 0.5 * M_2_SQRTPI * M_SQRT1_2;
    case Activation::he2:
        return M_SQRT2 * z;
    }
    return 0.0;
}

/// sigma(z) and sigma'(z) together, sharing the expensive part (one tanh or exp). Local.
inline void activate_with_derivative(Activation a, double z, double& value,
                                     double& derivative) noexcept {
    switch (a) {
    case Activation::tanh:
        value = std::tanh(z);
        derivative = 1.0 - value * value;
        return;
    case Activation::sigmoid:
        value = 1.0 / (1.0 + std::exp(-z));
        derivative = value * (1.0 - value);
        return;
    default:
        value = activate(a, z);
        derivative = activate_derivative(a, z);
    }
}

/// activate_with_derivative() over n values: the switch is taken once, outside the loop, so
/// the cheap activations (relu, he2) vectorize. Same values as the scalar form. Local.
inline void activate_with_derivative(Activation a, const double* z, double* value,
                                     double* derivative, std::size_t n) noexcept {
    switch (a) {
    case Activation::relu:
        for (std::size_t i = 0; i < n; ++i) {
            value[i] = z[i] > 0 ? z[i] : 0.0;
            derivative[i] = z[i] > 0 ? 1.0 : 0.0;
        }
        return;
    case Activation::he2:
        for (std::size_t i = 0; i < n; ++i) {
            value[i] = (z[i] * z[i] - 1.0) * M_SQRT1_2;
            derivative[i] = M_SQRT2 * z[i];
        }
        return;
    default:
        for (std::size_t i = 0; i < n; ++i)
            activate_with_derivative(a, z[i], value[i], derivative[i]);
    }
}

} // namespace moesim::model
