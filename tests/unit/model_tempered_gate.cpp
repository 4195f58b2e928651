#include "moesim/model/tempered_gate.hpp"

#include <doctest/doctest.h>

#include <cmath>

using moesim::model::MoeParams;

namespace {

MoeParams gate_k3_d2() {
    MoeParams p = MoeParams::zeros(3, 2);
    p.gate_slope << 1.0, -0.5, -1.0, 0.5, 0.0, 0.0;
    p.gate_bias << 0.2, -0.1, 0.0;
    p.temperature = 0.7;
    return p;
}

Eigen::MatrixXd inputs() {
    Eigen::MatrixXd x(4, 2);
    x << 0.3, -1.2, 1.5, 0.4, -0.7, -0.2, 2.0, 1.1;
    return x;
}

} // namespace

TEST_SUITE("model::tempered_gate") {
    TEST_CASE("at temperature 1 the temperature gate is the softmax gate") {
        MoeParams p = gate_k3_d2();
        p.temperature = 1.0;
        const Eigen::MatrixXd a = moesim::model::TemperatureGate().log_weights(p, inputs());
        const Eigen::MatrixXd b = moesim::model::SoftmaxGate().log_weights(p, inputs());
        CHECK((a - b).cwiseAbs().maxCoeff() < 1e-14);
    }

    TEST_CASE("the temperature gate is invariant under (beta, tau) -> (c beta, c tau)") {
        const MoeParams p = gate_k3_d2();
        MoeParams scaled = p;
        scaled.gate_slope *= 2.5;
        scaled.gate_bias *= 2.5;
        scaled.temperature *= 2.5;
        const moesim::model::TemperatureGate gate;
        CHECK((gate.log_weights(p, inputs()) - gate.log_weights(scaled, inputs()))
                  .cwiseAbs()
                  .maxCoeff() < 1e-13);
        // The activation gate is not: scaling changes its weights.
        const moesim::model::ActivationGate tanh_gate(moesim::model::Activation::tanh);
        CHECK((tanh_gate.log_weights(p, inputs()) - tanh_gate.log_weights(scaled, inputs()))
                  .cwiseAbs()
                  .maxCoeff() > 1e-3);
    }

    TEST_CASE("activation gate weights match the closed form softmax((sigma(b1'x) + b0)/tau)") {
        const MoeParams p = gate_k3_d2();
        const Eigen::MatrixXd x = inputs();
        for (auto [act, sigma] :
             {std::pair{moesim::model::Activation::tanh, +[](double z) { return std::tanh(z); }},
              std::pair{moesim::model::Activation::sigmoid,
                        +[](double z) { return 1.0 / (1.0 + std::exp(-z)); }},
              std::pair{moesim::model::Activation::gelu, +[](double z) {
                            return 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0)));
                        }}}) {
            const Eigen::MatrixXd log_g = moesim::model::ActivationGate(act).log_weights(p, x);
            for (Eigen::Index m = 0; m < x.rows(); ++m) {
                double logits[3], total = 0.0;
                for (int i = 0; i < 3; ++i) {
                    logits[i] =
                        (sigma(p.gate_slope.row(i).dot(x.row(m))) + p.gate_bias(i)) / p.temperature;
                    total += std::exp(logits[i]);
                }
                for (int i = 0; i < 3; ++i)
                    CHECK(std::exp(log_g(m, i)) ==
                          doctest::Approx(std::exp(logits[i]) / total).epsilon(1e-13));
            }
        }
    }

    TEST_CASE("make_gate builds the tempered gates by name") {
        CHECK(moesim::model::make_gate("temperature")->name() == "temperature");
        const auto gate = moesim::model::make_gate("activation", 2, "sigmoid");
        REQUIRE(gate->name() == "activation");
        CHECK(dynamic_cast<const moesim::model::ActivationGate&>(*gate).activation() ==
              moesim::model::Activation::sigmoid);
    }
}
