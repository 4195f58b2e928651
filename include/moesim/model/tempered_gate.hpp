#pragma once
// Gates with a shared temperature (MODELS.md section 1, arXiv 2401.13875):
//   temperature: G_i(x) = softmax_i((beta1_i'x + beta0_i) / tau),
//   activation:  G_i(x) = softmax_i((sigma(beta1_i'x) + beta0_i) / tau), sigma in
//                {tanh, sigmoid, gelu, ...} (model/activation.hpp).
// tau is MoeParams::temperature. The temperature gate is exactly invariant under
// (beta1, beta0, tau) -> (c beta1, c beta0, c tau): tau is not identifiable on its own, only
// beta/tau is; this is the PDE beta1'dG/dbeta1 + beta0 dG/dbeta0 = -tau dG/dtau behind the
// paper's slow rates. The activation gate breaks the invariance (sigma is not homogeneous),
// so tau and beta1 are identified. Its translation symmetry is only beta0 -> beta0 + t: the
// last expert's gate (beta1, beta0) = 0 is a restriction of the model, not a gauge, and its
// true value must be 0 as well. Users: fit/em, the rates experiment.

#include "moesim/model/activation.hpp"
#include "moesim/model/gaussian_moe.hpp"

#include <Eigen/Core>

namespace moesim::model {

/// The common form softmax_i((h(beta1_i'x) + beta0_i) / tau) with a scalar score h.
class TemperedGate : public Gate {
public:
    Eigen::MatrixXd log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const override;
    bool full_support() const override { return true; }
    /// h(z) and h'(z). Local.
    virtual void score(double z, double& value, double& derivative) const = 0;
    /// The logits (h(beta1_i'x_n) + beta0_i) / tau (n x k), and h'(beta1_i'x_n) if asked.
    /// Local.
    Eigen::MatrixXd logits(const MoeParams& params, const Eigen::MatrixXd& x,
                           Eigen::MatrixXd* score_derivative = nullptr) const;
};

/// softmax_i((beta1_i'x + beta0_i) / tau); at tau = 1 it is the softmax gate.
class TemperatureGate final : public TemperedGate {
public:
    std::string_view name() const override { return "temperature"; }
    void score(double z, double& value, double& derivative) const override {
        value = z;
        derivative = 1.0;
    }
};

/// softmax_i((sigma(beta1_i'x) + beta0_i) / tau).
class ActivationGate final : public TemperedGate {
public:
    explicit ActivationGate(Activation activation) : activation_(activation) {}
    std::string_view name() const override { return "activation"; }
    void score(double z, double& value, double& derivative) const override {
        activate_with_derivative(activation_, z, value, derivative);
    }
    Activation activation() const noexcept { return activation_; }

private:
    Activation activation_;
};

} // namespace moesim::model
