#include "moesim/model/sigmoid_moe.hpp"

#include "moesim/core/philox.hpp"

#include <doctest/doctest.h>

#include <cmath>

using moesim::model::ExpertFunction;
using moesim::model::ExpertKind;
using moesim::model::SigmoidMoeParams;

namespace {

SigmoidMoeParams example_params() {
    SigmoidMoeParams p = SigmoidMoeParams::zeros(3, 2);
    p.gate_slope << 1.0, -0.5, 0.0, 0.0, -2.0, 0.7;
    p.gate_bias << 0.3, 0.0, -0.4;
    p.expert_slope << 0.8, 0.2, -1.1, 0.5, 0.3, -0.9;
    p.expert_bias << 0.5, -0.2, 0.1;
    return p;
}

Eigen::MatrixXd example_x(Eigen::Index n) {
    const moesim::core::Philox rng(5, "test.x");
    Eigen::MatrixXd x(n, 2);
    for (Eigen::Index m = 0; m < n; ++m) {
        const auto z = rng.normal_pair(static_cast<std::uint64_t>(m), 0, 0);
        x(m, 0) = z[0];
        x(m, 1) = z[1];
    }
    return x;
}

} // namespace

TEST_CASE("expert functions match their closed forms") {
    const double z = 0.7;
    CHECK(ExpertFunction{ExpertKind::linear}.value(z) == z);
    CHECK(ExpertFunction{ExpertKind::relu}.value(-z) == 0.0);
    CHECK(ExpertFunction{ExpertKind::relu}.value(z) == z);
    // GELU(z) = z Phi(z); Phi(0.7) = 0.75803634777692697 (tables).
    CHECK(ExpertFunction{ExpertKind::gelu}.value(z) == doctest::Approx(z * 0.75803634777692697));
    CHECK(ExpertFunction{ExpertKind::polynomial, 3}.value(z) == doctest::Approx(z * z * z));
    CHECK(ExpertFunction{ExpertKind::polynomial, 3}.derivative(z) == doctest::Approx(3 * z * z));
}

TEST_CASE("pack and unpack are inverse, with the documented layout") {
    const SigmoidMoeParams p = example_params();
    const Eigen::VectorXd packed = p.pack();
    REQUIRE(packed.size() == 3 * 6);
    // Expert 1: (beta0, beta1, b, a).
    CHECK(packed(6) == 0.0);
    CHECK(packed(7) == 0.0);
    CHECK(packed(9) == -0.2);
    CHECK(packed(10) == -1.1);
    CHECK(SigmoidMoeParams::unpack(packed, 3, 2).pack() == packed);
}

TEST_CASE("the analytic Jacobian matches central finite differences for every expert kind") {
    const Eigen::MatrixXd x = example_x(40);
    const SigmoidMoeParams p = example_params();
    const Eigen::VectorXd theta = p.pack();
    for (const ExpertFunction expert :
         {ExpertFunction{ExpertKind::linear}, ExpertFunction{ExpertKind::relu},
          ExpertFunction{ExpertKind::gelu}, ExpertFunction{ExpertKind::polynomial, 2},
          ExpertFunction{ExpertKind::polynomial, 3}}) {
        CAPTURE(static_cast<int>(expert.kind));
        CAPTURE(expert.degree);
        const Eigen::MatrixXd jac = moesim::model::sigmoid_moe_jacobian(expert, p, x);
        REQUIRE(jac.rows() == 40);
        REQUIRE(jac.cols() == theta.size());
        const double h = 1e-6;
        for (Eigen::Index q = 0; q < theta.size(); ++q) {
            Eigen::VectorXd up = theta, down = theta;
            up(q) += h;
            down(q) -= h;
            const Eigen::VectorXd fd =
                (moesim::model::sigmoid_moe_mean(expert, SigmoidMoeParams::unpack(up, 3, 2), x) -
                 moesim::model::sigmoid_moe_mean(expert, SigmoidMoeParams::unpack(down, 3, 2), x)) /
                (2 * h);
            for (Eigen::Index m = 0; m < x.rows(); ++m) {
                // ReLU is not differentiable at its kink: skip samples within h of it.
                const Eigen::Index i = q / 6;
                const double u = p.expert_bias(i) + p.expert_slope.row(i).dot(x.row(m));
                if (expert.kind == ExpertKind::relu && std::abs(u) < 1e-4)
                    continue;
                CHECK(jac(m, q) == doctest::Approx(fd(m)).epsilon(1e-6).scale(1.0));
            }
        }
    }
}

TEST_CASE("samples are f(x) plus noise of the configured variance, and prefixes do not depend "
          "on n") {
    const ExpertFunction expert{ExpertKind::relu};
    const SigmoidMoeParams p = example_params();
    const auto big = moesim::model::sample_sigmoid_moe(expert, p, 0.25, 11, 3, 20000, 1.5);
    const auto small = moesim::model::sample_sigmoid_moe(expert, p, 0.25, 11, 3, 100, 1.5);
    CHECK(big.x.topRows(100) == small.x);
    CHECK(big.y.head(100) == small.y);
    const Eigen::VectorXd noise = big.y - moesim::model::sigmoid_moe_mean(expert, p, big.x);
    // Sample variance of 20000 N(0, 0.25) draws: sd of the estimate 0.25 sqrt(2/20000) = 0.0025.
    const double mean = noise.mean();
    const double var = (noise.array() - mean).square().sum() / (20000 - 1);
    CHECK(std::abs(mean) < 5 * 0.5 / std::sqrt(20000.0));
    CHECK(std::abs(var - 0.25) < 5 * 0.0025);
    // x = 1.5 z: its variance is 2.25.
    CHECK(std::abs((big.x.array().square().mean()) - 2.25) < 5 * 2.25 * std::sqrt(2.0 / 40000));
    // Another job is another sample.
    const auto other = moesim::model::sample_sigmoid_moe(expert, p, 0.25, 11, 4, 100, 1.5);
    CHECK(other.x != small.x);
}
