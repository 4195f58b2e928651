#include "moesim/model/contaminated_moe.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

using moesim::model::ContaminatedParams;
using moesim::model::PretrainedExpert;
using moesim::model::PretrainedFamily;
using moesim::model::PromptGate;

namespace {

PretrainedExpert pretrained(PretrainedFamily family) {
    PretrainedExpert f0;
    f0.family = family;
    f0.slope = Eigen::VectorXd::Constant(2, 0.0);
    f0.slope << -1.0, 0.5;
    f0.bias = 0.2;
    f0.scale = 0.4;
    return f0;
}

ContaminatedParams prompt() {
    ContaminatedParams p = ContaminatedParams::zeros(2);
    p.mixing = 0.3;
    p.gate_slope << 1.5, -0.5;
    p.gate_bias = -0.4;
    p.prompt_slope << 1.0, 0.0;
    p.prompt_bias = 0.5;
    p.prompt_variance = 0.3;
    return p;
}

double normal_pdf(double y, double mean, double var) {
    return std::exp(-0.5 * (y - mean) * (y - mean) / var) / std::sqrt(2 * std::numbers::pi * var);
}

double laplace_pdf(double y, double location, double scale) {
    return std::exp(-std::abs(y - location) / scale) / (2.0 * scale);
}

} // namespace

TEST_SUITE("model::contaminated_moe") {
    TEST_CASE("log_sigmoid_pair is bitwise the two log_sigmoid calls") {
        const double inf = std::numeric_limits<double>::infinity();
        std::vector<double> ts = {0.0, -0.0, 1e-300, -1e-300, 1e-17, -1e-17, 0.5, -0.5, 36.0,
                                  -36.0, 709.0, -709.0, 800.0, -800.0, inf, -inf};
        for (int i = -4000; i <= 4000; ++i)
            ts.push_back(i * 0.01237);
        for (double t : ts) {
            INFO("t = ", t);
            const auto pair = moesim::model::log_sigmoid_pair(t);
            CHECK(std::bit_cast<std::uint64_t>(pair.negative) ==
                  std::bit_cast<std::uint64_t>(moesim::model::log_sigmoid(-t)));
            CHECK(std::bit_cast<std::uint64_t>(pair.positive) ==
                  std::bit_cast<std::uint64_t>(moesim::model::log_sigmoid(t)));
        }
        const auto nan = moesim::model::log_sigmoid_pair(std::nan(""));
        CHECK(std::isnan(nan.negative));
        CHECK(std::isnan(nan.positive));
    }

    TEST_CASE(
        "contaminated density is (1 - s) f0 + s N(prompt) for both gates and both f0 families") {
        const auto p = prompt();
        Eigen::MatrixXd x(3, 2);
        x << 0.3, -1.2, -0.7, 0.4, 2.0, 1.0;
        Eigen::VectorXd y(3);
        y << 0.1, -1.5, 2.5;
        for (auto family : {PretrainedFamily::gaussian, PretrainedFamily::laplace})
            for (auto gate : {PromptGate::constant, PromptGate::softmax}) {
                const auto f0 = pretrained(family);
                const Eigen::VectorXd log_p =
                    moesim::model::contaminated_log_density(gate, f0, p, x, y);
                for (Eigen::Index m = 0; m < 3; ++m) {
                    const double s =
                        gate == PromptGate::constant
                            ? p.mixing
                            : 1.0 / (1.0 + std::exp(-(x.row(m).dot(p.gate_slope) + p.gate_bias)));
                    const double loc0 = x.row(m).dot(f0.slope) + f0.bias;
                    const double f0_pdf = family == PretrainedFamily::gaussian
                                              ? normal_pdf(y(m), loc0, f0.scale)
                                              : laplace_pdf(y(m), loc0, f0.scale);
                    const double expected =
                        (1.0 - s) * f0_pdf +
                        s * normal_pdf(y(m), x.row(m).dot(p.prompt_slope) + p.prompt_bias,
                                       p.prompt_variance);
                    CHECK(std::exp(log_p(m)) == doctest::Approx(expected).epsilon(1e-12));
                }
            }
    }

    TEST_CASE("contaminated gate log-weights stay finite and exact for extreme logits") {
        auto p = prompt();
        p.gate_slope << 1000.0, 0.0;
        Eigen::MatrixXd x(2, 2);
        x << 1.0, 0.0, -1.0, 0.0;
        const auto w = moesim::model::contaminated_log_weights(PromptGate::softmax, p, x);
        CHECK(w.allFinite());
        CHECK(w(0, 1) == doctest::Approx(0.0));
        CHECK(w(0, 0) == doctest::Approx(-(1000.0 - 0.4)).epsilon(1e-12));
        CHECK(w(1, 1) == doctest::Approx(-(1000.0 + 0.4)).epsilon(1e-12));
    }

    TEST_CASE(
        "contaminated samples are a pure function of (seed, job) and prefixes do not depend on n") {
        const auto f0 = pretrained(PretrainedFamily::laplace);
        const auto a =
            moesim::model::sample_contaminated(PromptGate::softmax, f0, prompt(), 3, 7, 500);
        const auto b =
            moesim::model::sample_contaminated(PromptGate::softmax, f0, prompt(), 3, 7, 200);
        const auto c =
            moesim::model::sample_contaminated(PromptGate::softmax, f0, prompt(), 3, 8, 200);
        CHECK(a.x.topRows(200) == b.x);
        CHECK(a.y.head(200) == b.y);
        CHECK(c.y != b.y);
    }

    TEST_CASE("contaminated sample moments match the closed forms of the mixture") {
        const Eigen::Index n = 200000;
        SUBCASE("Laplace f0 alone: E|y - m0| = s0 and Var(y - m0) = 2 s0^2") {
            const auto f0 = pretrained(PretrainedFamily::laplace);
            auto p = prompt();
            p.mixing = 1e-9;
            const auto s =
                moesim::model::sample_contaminated(PromptGate::constant, f0, p, 11, 0, n);
            const Eigen::VectorXd r = (s.y - s.x * f0.slope).array() - f0.bias;
            const double mean_abs = r.cwiseAbs().mean();
            const double var = r.squaredNorm() / n;
            // Standard errors: sd|r| = s0, sd r^2 = sqrt(20) s0^2.
            CHECK(std::abs(mean_abs - f0.scale) < 5.0 * f0.scale / std::sqrt(double(n)));
            CHECK(std::abs(var - 2 * f0.scale * f0.scale) <
                  5.0 * std::sqrt(20.0) * f0.scale * f0.scale / std::sqrt(double(n)));
            CHECK(std::abs(r.mean()) < 5.0 * std::sqrt(2.0) * f0.scale / std::sqrt(double(n)));
        }
        SUBCASE("constant gate: E[y] and E[x y] follow the weighted expert means") {
            const auto f0 = pretrained(PretrainedFamily::gaussian);
            const auto p = prompt();
            const auto s =
                moesim::model::sample_contaminated(PromptGate::constant, f0, p, 12, 0, n);
            // E[y] = (1 - l) b0 + l b;  E[x_c y] = (1 - l) a0_c + l a_c (x ~ N(0, I)).
            const double l = p.mixing;
            const double mean_y = s.y.mean();
            CHECK(std::abs(mean_y - ((1 - l) * f0.bias + l * p.prompt_bias)) < 0.01);
            for (Eigen::Index c = 0; c < 2; ++c) {
                const double exy = s.x.col(c).dot(s.y) / n;
                CHECK(std::abs(exy - ((1 - l) * f0.slope(c) + l * p.prompt_slope(c))) < 0.015);
            }
        }
    }
}
