#pragma once
// The neuron of arXiv 2502.05784 (MODELS.md section 3.1): h(z; theta) = R tanh(theta3)
// tanh(<theta1, z> + theta2), with theta = (theta1 in R^d, theta2, theta3) stored as one row
// of d + 2 values in that order. Its output is bounded by R, which the paper's propagation of
// chaos bounds need. This is the one-neuron reference the network's block kernels are tested
// against. Users: model/scaled_tanh_network, tests.

#include <cmath>
#include <span>

namespace moesim::model {

/// One neuron of scale R. Local; every call is a pure function of its arguments.
struct ScaledTanhNeuron {
    double scale = 10.0; ///< R

    /// h(z; theta). `theta` holds z.size() + 2 values.
    double value(std::span<const double> theta, std::span<const double> z) const {
        return scale * std::tanh(theta[z.size() + 1]) * std::tanh(pre_activation(theta, z));
    }

    /// grad_theta h(z; theta) into `out` (theta.size() values):
    /// (R s (1 - t^2) z, R s (1 - t^2), R (1 - s^2) t) with t = tanh(<theta1, z> + theta2),
    /// s = tanh(theta3).
    void gradient(std::span<const double> theta, std::span<const double> z,
                  std::span<double> out) const {
        const std::size_t d = z.size();
        const double t = std::tanh(pre_activation(theta, z));
        const double s = std::tanh(theta[d + 1]);
        const double inner = scale * s * (1.0 - t * t);
        for (std::size_t k = 0; k < d; ++k)
            out[k] = inner * z[k];
        out[d] = inner;
        out[d + 1] = scale * (1.0 - s * s) * t;
    }

    /// <theta1, z> + theta2.
    static double pre_activation(std::span<const double> theta, std::span<const double> z) {
        double a = 0.0;
        for (std::size_t k = 0; k < z.size(); ++k)
            a += theta[k] * z[k];
        return a + theta[z.size()];
    }
};

} // namespace moesim::model
