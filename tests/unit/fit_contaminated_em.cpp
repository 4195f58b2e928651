#include "moesim/fit/contaminated_em.hpp"
#include "moesim/fit/contaminated_loss.hpp"

#include "moesim/core/philox.hpp"

#include <doctest/doctest.h>

#include <cmath>

using moesim::fit::EmSettings;
using moesim::model::ContaminatedParams;
using moesim::model::PretrainedExpert;
using moesim::model::PretrainedFamily;
using moesim::model::PromptGate;

namespace {

PretrainedExpert pretrained(PretrainedFamily family) {
    PretrainedExpert f0;
    f0.family = family;
    f0.slope = Eigen::VectorXd::Constant(1, -1.0);
    f0.bias = 0.0;
    f0.scale = 0.5;
    return f0;
}

ContaminatedParams truth() {
    ContaminatedParams p = ContaminatedParams::zeros(1);
    p.mixing = 0.3;
    p.gate_slope << 1.5;
    p.gate_bias = -0.5;
    p.prompt_slope << 1.0;
    p.prompt_bias = 0.5;
    p.prompt_variance = 0.3;
    return p;
}

// Q of the M-step: sum r log N(y | a'x + b, nu) + the gate's part.
double surrogate(PromptGate gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                 const Eigen::VectorXd& r, const ContaminatedParams& p) {
    const PretrainedExpert f0 = pretrained(PretrainedFamily::gaussian);
    const Eigen::MatrixXd w = moesim::model::contaminated_log_weights(gate, p, x);
    const Eigen::MatrixXd dens = moesim::model::contaminated_component_log_densities(f0, p, x, y);
    double q = 0.0;
    for (Eigen::Index m = 0; m < x.rows(); ++m)
        q += r(m) * (w(m, 1) + dens(m, 1)) + (1.0 - r(m)) * w(m, 0);
    return q;
}

} // namespace

TEST_SUITE("fit::contaminated_em") {
    TEST_CASE(
        "contaminated: the logistic gate gradient and Hessian match central finite differences") {
        const auto data = moesim::model::sample_contaminated(
            PromptGate::softmax, pretrained(PretrainedFamily::gaussian), truth(), 5, 0, 300);
        Eigen::MatrixXd x(300, 2);
        x.col(0) = data.x.col(0);
        x.col(1) = data.y; // a second input column, to exercise d = 2
        const moesim::core::Philox rng(5, "test.weights");
        Eigen::VectorXd r(300);
        for (Eigen::Index m = 0; m < 300; ++m)
            r(m) = rng.uniform_pair(static_cast<std::uint64_t>(m), 0, 0)[0];
        Eigen::VectorXd slope(2);
        slope << 0.7, -0.3;
        const double bias = 0.2;
        const auto q = moesim::fit::logistic_gate_objective(x, r, slope, bias);
        const double h = 1e-5;
        for (Eigen::Index p = 0; p < 3; ++p) {
            Eigen::VectorXd theta(3);
            theta << bias, slope;
            Eigen::VectorXd plus = theta, minus = theta;
            plus(p) += h;
            minus(p) -= h;
            const auto qp = moesim::fit::logistic_gate_objective(x, r, plus.tail(2), plus(0));
            const auto qm = moesim::fit::logistic_gate_objective(x, r, minus.tail(2), minus(0));
            CHECK(q.gradient(p) == doctest::Approx((qp.value - qm.value) / (2 * h)).epsilon(1e-6));
            for (Eigen::Index c = 0; c < 3; ++c)
                CHECK(q.hessian(c, p) ==
                      doctest::Approx((qp.gradient(c) - qm.gradient(c)) / (2 * h)).epsilon(1e-6));
        }
        // Reusing an evaluation's log sigmoids at the same point changes no bit.
        const auto line = moesim::fit::logistic_gate_objective(x, r, slope, bias, false);
        const auto reused = moesim::fit::logistic_gate_objective(x, r, slope, bias, true, &line.log_s);
        CHECK(reused.value == q.value);
        CHECK(line.value == q.value);
        CHECK(reused.gradient == q.gradient);
        CHECK(reused.hessian == q.hessian);
        CHECK(reused.log_s == q.log_s);
    }

    TEST_CASE("contaminated: the M-step maximises the EM surrogate (lambda = mean r, no "
              "perturbation helps)") {
        for (auto gate : {PromptGate::constant, PromptGate::softmax}) {
            const auto f0 = pretrained(PretrainedFamily::gaussian);
            const auto data = moesim::model::sample_contaminated(gate, f0, truth(), 6, 0, 2000);
            auto start = truth();
            start.mixing = 0.5;
            start.gate_bias = 0.3;
            start.prompt_bias = 0.0;
            Eigen::VectorXd r;
            moesim::fit::contaminated_e_step(gate, f0, data.x, data.y, start, r);
            EmSettings settings;
            settings.gate_newton_steps = 50;
            auto next = start;
            moesim::fit::contaminated_m_step(gate, data.x, data.y, r, settings, next);
            if (gate == PromptGate::constant)
                CHECK(next.mixing == doctest::Approx(r.mean()).epsilon(1e-14));
            const double best = surrogate(gate, data.x, data.y, r, next);
            CHECK(best > surrogate(gate, data.x, data.y, r, start));
            for (double step : {-1e-3, 1e-3}) {
                auto moved = next;
                moved.prompt_slope(0) += step;
                CHECK(surrogate(gate, data.x, data.y, r, moved) < best);
                moved = next;
                moved.prompt_bias += step;
                CHECK(surrogate(gate, data.x, data.y, r, moved) < best);
                moved = next;
                moved.prompt_variance += step;
                CHECK(surrogate(gate, data.x, data.y, r, moved) < best);
                moved = next;
                moved.mixing += step;
                moved.gate_bias += step;
                moved.gate_slope(0) += step;
                CHECK(surrogate(gate, data.x, data.y, r, moved) < best);
            }
        }
    }

    TEST_CASE("contaminated: the log-likelihood never decreases across EM iterations") {
        for (auto family : {PretrainedFamily::gaussian, PretrainedFamily::laplace})
            for (auto gate : {PromptGate::constant, PromptGate::softmax}) {
                const auto f0 = pretrained(family);
                const auto data = moesim::model::sample_contaminated(gate, f0, truth(), 9, 1, 3000);
                EmSettings settings;
                settings.init_noise = 0.8; // far from the truth, so EM has a way to climb
                settings.max_iterations = 300;
                settings.tolerance = 1e-12;
                const auto fit = moesim::fit::fit_contaminated_em(gate, f0, data.x, data.y, truth(),
                                                                  settings, 9, 1);
                REQUIRE(fit.trace.size() >= 3);
                CHECK(fit.trace.back() > fit.trace.front());
                for (std::size_t t = 1; t < fit.trace.size(); ++t)
                    CHECK(fit.trace[t] >= fit.trace[t - 1] - 1e-9 * std::abs(fit.trace[t]));
            }
    }

    TEST_CASE("contaminated: parameters are recovered at large n within a multiple of 1/sqrt(n)") {
        const Eigen::Index n = 40000;
        const double tol = 8.0 / std::sqrt(static_cast<double>(n)); // 0.04
        for (auto family : {PretrainedFamily::gaussian, PretrainedFamily::laplace})
            for (auto gate : {PromptGate::constant, PromptGate::softmax}) {
                const auto f0 = pretrained(family);
                const auto data = moesim::model::sample_contaminated(gate, f0, truth(), 21, 3, n);
                EmSettings settings;
                settings.init_noise = 0.3;
                const auto fit = moesim::fit::fit_contaminated_em(gate, f0, data.x, data.y, truth(),
                                                                  settings, 21, 3);
                CHECK(fit.converged);
                const auto loss = moesim::fit::contaminated_losses(gate, fit.params, truth());
                for (std::size_t l = 0; l < loss.size(); ++l) {
                    INFO("loss ", moesim::fit::contaminated_loss_names(gate)[l]);
                    // The gate's 3 terms, or lambda's 2, add up in the combined loss.
                    CHECK(loss[l] < (l == 0 ? 4.0 : 1.5) * tol);
                }
                // The fit beats the truth's likelihood (it is the maximiser).
                const double at_truth =
                    moesim::model::contaminated_log_density(gate, f0, truth(), data.x, data.y)
                        .sum();
                CHECK(fit.log_likelihood >= at_truth);
            }
    }

    TEST_CASE("contaminated: fits are deterministic and the best restart wins") {
        const auto f0 = pretrained(PretrainedFamily::gaussian);
        const auto data =
            moesim::model::sample_contaminated(PromptGate::softmax, f0, truth(), 4, 2, 800);
        EmSettings settings;
        settings.restarts = 3;
        settings.init_noise = 1.0;
        const auto a = moesim::fit::fit_contaminated_em(PromptGate::softmax, f0, data.x, data.y,
                                                        truth(), settings, 4, 2);
        const auto b = moesim::fit::fit_contaminated_em(PromptGate::softmax, f0, data.x, data.y,
                                                        truth(), settings, 4, 2);
        CHECK(a.log_likelihood == b.log_likelihood);
        CHECK(a.params.gate_slope == b.params.gate_slope);
        // Restart 0 alone is one of the candidates, so the best of three is at least as good.
        EmSettings one = settings;
        one.restarts = 1;
        const auto first = moesim::fit::fit_contaminated_em(PromptGate::softmax, f0, data.x, data.y,
                                                            truth(), one, 4, 2);
        CHECK(a.log_likelihood >= first.log_likelihood);
        CHECK(first.restart == 0);
        CHECK(a.restart < 3);
    }

    TEST_CASE("contaminated: losses are zero at the truth and equal their closed forms elsewhere") {
        const auto t = truth();
        for (auto gate : {PromptGate::constant, PromptGate::softmax}) {
            for (double v : moesim::fit::contaminated_losses(gate, t, t))
                CHECK(v == 0.0);
        }
        auto f = t;
        f.mixing = 0.4;
        f.gate_slope << 1.0;
        f.gate_bias = 0.0;
        f.prompt_slope << 1.3;
        f.prompt_bias = 0.1;
        f.prompt_variance = 0.3;
        const double prompt = std::sqrt(0.3 * 0.3 + 0.4 * 0.4);
        const auto c = moesim::fit::contaminated_losses(PromptGate::constant, f, t);
        REQUIRE(c.size() == 5);
        CHECK(c[0] == doctest::Approx(0.1 + 0.4 * prompt));
        CHECK(c[1] == doctest::Approx(0.1));
        CHECK(c[2] == doctest::Approx(0.3));
        CHECK(c[3] == doctest::Approx(0.4));
        CHECK(c[4] == doctest::Approx(0.0));
        const auto s = moesim::fit::contaminated_losses(PromptGate::softmax, f, t);
        REQUIRE(s.size() == 7);
        CHECK(s[0] == doctest::Approx(0.5 + 0.5 + prompt));
        CHECK(s[1] == doctest::Approx(0.5));
        CHECK(s[2] == doctest::Approx(0.5));
        CHECK(s[6] == doctest::Approx(1.0 - std::exp(-0.5))); // |exp(0) - exp(-0.5)|
    }
}
