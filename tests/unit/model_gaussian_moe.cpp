#include "moesim/model/gaussian_moe.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

using moesim::model::MoeParams;

namespace {

MoeParams two_experts() {
    MoeParams p = MoeParams::zeros(2, 1);
    p.gate_slope << 2.0, 0.0;
    p.gate_bias << 0.5, 0.0;
    p.expert_slope << 1.0, -1.0;
    p.expert_bias << 0.0, 1.0;
    p.variance << 0.25, 0.5;
    return p;
}

double normal_pdf(double y, double mean, double var) {
    return std::exp(-0.5 * (y - mean) * (y - mean) / var) / std::sqrt(2 * std::numbers::pi * var);
}

} // namespace

TEST_SUITE("model::gaussian_moe") {
    TEST_CASE("the density is the gate-weighted sum of expert normals") {
        const MoeParams p = two_experts();
        const moesim::model::SoftmaxGate gate;
        Eigen::MatrixXd x(2, 1);
        x << 0.3, -1.2;
        Eigen::VectorXd y(2);
        y << 0.7, 2.0;
        const Eigen::VectorXd log_p = moesim::model::log_density(gate, p, x, y);
        for (int m = 0; m < 2; ++m) {
            const double l0 = 2.0 * x(m, 0) + 0.5, l1 = 0.0;
            const double g0 = std::exp(l0) / (std::exp(l0) + std::exp(l1));
            const double expected = g0 * normal_pdf(y(m), x(m, 0), 0.25) +
                                    (1 - g0) * normal_pdf(y(m), -x(m, 0) + 1.0, 0.5);
            CHECK(log_p(m) == doctest::Approx(std::log(expected)).epsilon(1e-13));
        }
    }

    TEST_CASE("softmax gate weights are invariant to a common translation") {
        const MoeParams p = two_experts();
        MoeParams shifted = p;
        shifted.gate_slope.array() += 3.0;
        shifted.gate_bias.array() -= 1.5;
        Eigen::MatrixXd x(3, 1);
        x << -1.0, 0.0, 2.0;
        const moesim::model::SoftmaxGate gate;
        CHECK((gate.log_weights(p, x) - gate.log_weights(shifted, x)).cwiseAbs().maxCoeff() <
              1e-12);
        CHECK((p.last_gate_zero().gate_slope - shifted.last_gate_zero().gate_slope).norm() < 1e-14);
        CHECK(p.last_gate_zero().gate_bias(1) == 0.0);
    }

    TEST_CASE("samples are a pure function of (seed, job) and prefixes do not depend on n") {
        const MoeParams p = two_experts();
        const moesim::model::SoftmaxGate gate;
        const auto a = moesim::model::sample_moe(gate, p, 7, 3, 100);
        const auto b = moesim::model::sample_moe(gate, p, 7, 3, 100);
        const auto longer = moesim::model::sample_moe(gate, p, 7, 3, 250);
        const auto other_job = moesim::model::sample_moe(gate, p, 7, 4, 100);
        CHECK(a.x == b.x);
        CHECK(a.y == b.y);
        CHECK(longer.x.topRows(100) == a.x);
        CHECK(longer.y.head(100) == a.y);
        CHECK(other_job.y != a.y);
    }

    TEST_CASE("sample moments match the model's closed forms") {
        // E[y] = E[G_0(x)](a_0 x + b_0) + ...; with x ~ N(0,1) check E[y | x in a thin bin]
        // via the overall mean of y - sum_i G_i(x)(a_i x + b_i), which is 0 with sd ~ 1/sqrt(n).
        const MoeParams p = two_experts();
        const moesim::model::SoftmaxGate gate;
        const Eigen::Index n = 40000;
        const auto s = moesim::model::sample_moe(gate, p, 11, 0, n);
        const Eigen::MatrixXd g = gate.log_weights(p, s.x).array().exp().matrix();
        Eigen::MatrixXd means = s.x * p.expert_slope.transpose();
        means.rowwise() += p.expert_bias.transpose();
        const Eigen::VectorXd mean_y = g.cwiseProduct(means).rowwise().sum();
        const Eigen::VectorXd centred = s.y - mean_y;
        CHECK(std::abs(centred.mean()) < 5.0 / std::sqrt(double(n)));
        CHECK(std::abs(s.x.col(0).mean()) < 5.0 / std::sqrt(double(n)));
        CHECK(s.x.col(0).squaredNorm() / double(n) == doctest::Approx(1.0).epsilon(0.03));
        // Var(y | x) = sum G_i (nu_i + m_i^2) - (sum G_i m_i)^2.
        const Eigen::VectorXd var_y =
            (g.cwiseProduct(
                 (means.array().square().rowwise() + p.variance.transpose().array()).matrix()))
                .rowwise()
                .sum() -
            mean_y.cwiseProduct(mean_y);
        CHECK(centred.squaredNorm() / double(n) == doctest::Approx(var_y.mean()).epsilon(0.03));
    }
}

TEST_SUITE("model::gaussian_moe top-K") {
    TEST_CASE("the top-K gate is the softmax over the K largest logits and 0 elsewhere") {
        MoeParams p = MoeParams::zeros(4, 1);
        p.gate_slope << 1.0, -1.0, 0.5, 0.0;
        p.gate_bias << 0.0, 0.2, -0.3, 0.1;
        Eigen::MatrixXd x(3, 1);
        x << -2.0, 0.1, 1.5;
        const moesim::model::TopKGate top2(2);
        const Eigen::MatrixXd log_g = top2.log_weights(p, x);
        for (Eigen::Index m = 0; m < 3; ++m) {
            std::vector<std::pair<double, Eigen::Index>> logits;
            for (Eigen::Index i = 0; i < 4; ++i)
                logits.push_back({-(p.gate_slope(i, 0) * x(m, 0) + p.gate_bias(i)), i});
            std::sort(logits.begin(), logits.end());
            const double l0 = -logits[0].first, l1 = -logits[1].first;
            const double z = std::exp(l0) + std::exp(l1);
            CHECK(std::exp(log_g(m, logits[0].second)) == doctest::Approx(std::exp(l0) / z));
            CHECK(std::exp(log_g(m, logits[1].second)) == doctest::Approx(std::exp(l1) / z));
            CHECK(std::isinf(log_g(m, logits[2].second)));
            CHECK(std::isinf(log_g(m, logits[3].second)));
        }
        // K >= k is the softmax gate.
        const moesim::model::SoftmaxGate softmax;
        CHECK((moesim::model::TopKGate(4).log_weights(p, x) - softmax.log_weights(p, x))
                  .cwiseAbs()
                  .maxCoeff() == 0.0);
    }

    TEST_CASE("top-K samples never come from a switched-off expert") {
        MoeParams p = MoeParams::zeros(3, 1);
        p.gate_slope << 3.0, 0.0, -3.0;
        p.expert_bias << 10.0, 0.0, -10.0; // far apart: y tells the expert
        p.variance << 0.01, 0.01, 0.01;
        const moesim::model::TopKGate top1(1);
        const auto s = moesim::model::sample_moe(top1, p, 3, 0, 2000);
        for (Eigen::Index m = 0; m < 2000; ++m) {
            const double x = s.x(m, 0);
            const double expected = x > 0 ? 10.0 : -10.0; // logits 3x, 0, -3x: top-1 is 0 or 2
            CHECK(std::abs(s.y(m) - expected) < 1.0);
        }
    }
}
