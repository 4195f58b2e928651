#include "moesim/fit/em.hpp"
#include "moesim/fit/tempered_gate_objective.hpp"
#include "moesim/fit/voronoi_loss.hpp"

#include "moesim/core/philox.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using moesim::fit::EmSettings;
using moesim::model::MoeParams;

namespace {

// Last expert's gate at 0, as the activation gate requires.
MoeParams truth_k3_d2() {
    MoeParams p = MoeParams::zeros(3, 2);
    p.gate_slope << 1.5, -1.0, -1.0, 1.5, 0.0, 0.0;
    p.gate_bias << 0.3, -0.2, 0.0;
    p.expert_slope << 1.0, 0.5, -1.0, 0.0, 0.0, 2.0;
    p.expert_bias << 1.0, -1.0, 0.0;
    p.variance << 0.2, 0.3, 0.25;
    p.temperature = 0.8;
    return p;
}

MoeParams truth_k2_d1() {
    MoeParams p = MoeParams::zeros(2, 1);
    p.gate_slope << 2.0, 0.0;
    p.gate_bias << 0.3, 0.0;
    p.expert_slope << 1.0, -1.0;
    p.expert_bias << 0.5, -0.5;
    p.variance << 0.3, 0.2;
    p.temperature = 0.5;
    return p;
}

Eigen::MatrixXd random_weights(Eigen::Index n, Eigen::Index k) {
    const moesim::core::Philox rng(7, "test.weights");
    Eigen::MatrixXd resp(n, k);
    for (Eigen::Index m = 0; m < n; ++m)
        for (Eigen::Index i = 0; i < k; ++i)
            resp(m, i) = rng.uniform_pair(static_cast<std::uint64_t>(m),
                                          static_cast<std::uint32_t>(i), 0)[0];
    return resp;
}

EmSettings near_truth(double noise) {
    EmSettings em;
    em.init_noise = noise;
    em.tolerance = 1e-10;
    em.max_iterations = 2000;
    return em;
}

const moesim::model::TemperatureGate temperature_gate;
const moesim::model::ActivationGate tanh_gate(moesim::model::Activation::tanh);
const moesim::model::ActivationGate sigmoid_gate(moesim::model::Activation::sigmoid);
const moesim::model::ActivationGate gelu_gate(moesim::model::Activation::gelu);

} // namespace

TEST_SUITE("fit::tempered_gate") {
    TEST_CASE("the gate gradient (slopes, biases, log tau) matches central finite differences") {
        const MoeParams truth = truth_k3_d2();
        const auto data = moesim::model::sample_moe(temperature_gate, truth, 5, 0, 300);
        const Eigen::MatrixXd resp = random_weights(300, 3);
        MoeParams at = truth;
        at.gate_slope << 0.3, 0.2, -0.4, 0.9, 0.0, 0.0;
        at.gate_bias << -0.2, 0.4, 0.0;
        at.temperature = 1.3;
        for (const moesim::model::TemperedGate* gate :
             {static_cast<const moesim::model::TemperedGate*>(&temperature_gate),
              static_cast<const moesim::model::TemperedGate*>(&tanh_gate),
              static_cast<const moesim::model::TemperedGate*>(&sigmoid_gate),
              static_cast<const moesim::model::TemperedGate*>(&gelu_gate)}) {
            CAPTURE(gate->name());
            const auto q = moesim::fit::tempered_gate_objective(*gate, data.x, resp, at);
            const Eigen::VectorXd theta = moesim::fit::pack_tempered_gate(at);
            REQUIRE(theta.size() == 7);
            // The value is sum r log G, computed independently through log_weights.
            CHECK(q.value ==
                  doctest::Approx(resp.cwiseProduct(gate->log_weights(at, data.x)).sum()));
            const double h = 1e-5;
            for (Eigen::Index p = 0; p < theta.size(); ++p) {
                MoeParams plus = at, minus = at;
                Eigen::VectorXd tp = theta, tm = theta;
                tp(p) += h;
                tm(p) -= h;
                moesim::fit::unpack_tempered_gate(tp, plus);
                moesim::fit::unpack_tempered_gate(tm, minus);
                const double fd =
                    (moesim::fit::tempered_gate_objective(*gate, data.x, resp, plus).value -
                     moesim::fit::tempered_gate_objective(*gate, data.x, resp, minus).value) /
                    (2 * h);
                CHECK(q.gradient(p) == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
            }
        }
    }

    TEST_CASE("softmax gate: L-BFGS and Newton M-steps reach the same maximiser and fit") {
        const MoeParams truth = truth_k3_d2();
        const moesim::model::SoftmaxGate softmax;
        const auto data = moesim::model::sample_moe(softmax, truth, 9, 0, 2000);
        const Eigen::MatrixXd resp = random_weights(2000, 3);
        EmSettings newton;
        newton.gate_newton_steps = 100;
        EmSettings lbfgs = newton;
        lbfgs.gate_optimizer = moesim::fit::GateOptimizer::lbfgs;
        lbfgs.gate_lbfgs_iterations = 500;
        MoeParams by_newton = MoeParams::zeros(3, 2), by_lbfgs = MoeParams::zeros(3, 2);
        moesim::fit::m_step(softmax, data.x, data.y, resp, newton, by_newton);
        moesim::fit::m_step(softmax, data.x, data.y, resp, lbfgs, by_lbfgs);
        CHECK((by_newton.gate_slope - by_lbfgs.gate_slope).cwiseAbs().maxCoeff() < 1e-6);
        CHECK((by_newton.gate_bias - by_lbfgs.gate_bias).cwiseAbs().maxCoeff() < 1e-6);
        // Whole EM fits (default effort per M-step) agree to the EM tolerance's scale.
        EmSettings em_newton = near_truth(0.3), em_lbfgs = near_truth(0.3);
        em_lbfgs.gate_optimizer = moesim::fit::GateOptimizer::lbfgs;
        const auto a = moesim::fit::fit_em(softmax, data.x, data.y, 3, em_newton, {&truth, 9, 0});
        const auto b = moesim::fit::fit_em(softmax, data.x, data.y, 3, em_lbfgs, {&truth, 9, 0});
        CHECK(a.log_likelihood == doctest::Approx(b.log_likelihood).epsilon(1e-9));
        CHECK((a.params.gate_slope - b.params.gate_slope).cwiseAbs().maxCoeff() < 1e-3);
        CHECK((a.params.expert_slope - b.params.expert_slope).cwiseAbs().maxCoeff() < 1e-3);
    }

    TEST_CASE("EM never decreases the log-likelihood with temperature and activation gates") {
        const MoeParams truth = truth_k3_d2();
        for (const moesim::model::Gate* gate :
             {static_cast<const moesim::model::Gate*>(&temperature_gate),
              static_cast<const moesim::model::Gate*>(&tanh_gate),
              static_cast<const moesim::model::Gate*>(&sigmoid_gate)}) {
            CAPTURE(gate->name());
            const auto data = moesim::model::sample_moe(*gate, truth, 3, 1, 800);
            EmSettings em = near_truth(0.8);
            em.max_iterations = 150;
            const auto fit = moesim::fit::fit_em(*gate, data.x, data.y, 3, em, {&truth, 3, 1});
            REQUIRE(fit.trace.size() >= 3);
            for (std::size_t t = 1; t < fit.trace.size(); ++t)
                CHECK(fit.trace[t] >= fit.trace[t - 1] - 1e-9 * std::abs(fit.trace[t - 1]));
            CHECK(fit.trace.back() > fit.trace.front());
        }
    }

    TEST_CASE("activation gate: every parameter, tau included, is recovered within 1/sqrt(n)") {
        const MoeParams truth = truth_k2_d1();
        const Eigen::Index n = 20000;
        const double tolerance = 25.0 / std::sqrt(static_cast<double>(n)); // about 0.18
        const auto data = moesim::model::sample_moe(tanh_gate, truth, 11, 0, n);
        const auto fit =
            moesim::fit::fit_em(tanh_gate, data.x, data.y, 2, near_truth(0.3), {&truth, 11, 0});
        CHECK(fit.converged);
        const MoeParams& p = fit.params;
        CAPTURE(p.gate_slope);
        CAPTURE(p.gate_bias);
        CAPTURE(p.temperature);
        CHECK(std::abs(p.temperature - truth.temperature) < tolerance);
        CHECK((p.gate_slope - truth.gate_slope).cwiseAbs().maxCoeff() < tolerance);
        CHECK((p.gate_bias - truth.gate_bias).cwiseAbs().maxCoeff() < tolerance);
        CHECK((p.expert_slope - truth.expert_slope).cwiseAbs().maxCoeff() < tolerance);
        CHECK((p.expert_bias - truth.expert_bias).cwiseAbs().maxCoeff() < tolerance);
        CHECK((p.variance - truth.variance).cwiseAbs().maxCoeff() < tolerance);
        // The fitted likelihood is at least the truth's (the MLE beats the truth on its data).
        CHECK(fit.log_likelihood >=
              moesim::model::log_density(tanh_gate, truth, data.x, data.y).sum() - 1e-6);
    }

    TEST_CASE("temperature gate: beta/tau is recovered; tau itself only up to the scale ridge") {
        const MoeParams truth = truth_k2_d1();
        const Eigen::Index n = 20000;
        const double tolerance = 25.0 / std::sqrt(static_cast<double>(n));
        const auto data = moesim::model::sample_moe(temperature_gate, truth, 12, 0, n);
        const auto fit = moesim::fit::fit_em(temperature_gate, data.x, data.y, 2, near_truth(0.3),
                                             {&truth, 12, 0});
        const MoeParams& p = fit.params;
        // Identified: the effective softmax parameters beta/tau (scaled so errors are O(1)).
        const Eigen::MatrixXd slope_ratio = p.gate_slope / p.temperature;
        const Eigen::VectorXd bias_ratio = p.gate_bias / p.temperature;
        CHECK((slope_ratio - truth.gate_slope / truth.temperature).cwiseAbs().maxCoeff() <
              tolerance / truth.temperature);
        CHECK((bias_ratio - truth.gate_bias / truth.temperature).cwiseAbs().maxCoeff() <
              tolerance / truth.temperature);
        CHECK((p.expert_slope - truth.expert_slope).cwiseAbs().maxCoeff() < tolerance);
        // Moving along the ridge (c beta, c tau) leaves the likelihood unchanged.
        MoeParams ridge = p;
        ridge.gate_slope *= 1.7;
        ridge.gate_bias *= 1.7;
        ridge.temperature *= 1.7;
        CHECK(moesim::model::log_density(temperature_gate, ridge, data.x, data.y).sum() ==
              doctest::Approx(fit.log_likelihood).epsilon(1e-12));
    }

    TEST_CASE("tempered losses: zero at the truth, |delta tau| alone for a temperature change") {
        const MoeParams truth = truth_k3_d2();
        const auto names = moesim::fit::tempered_loss_names();
        REQUIRE(names.size() == 8);
        CHECK(names[6] == "temperature");
        CHECK(names[7] == "gate_slope_scaled");
        const auto at_truth = moesim::fit::tempered_losses(truth.permuted({2, 0, 1}), truth);
        for (double value : at_truth)
            CHECK(value == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
        // tau -> tau + 0.1 with beta0 scaled along: masses exp(beta0/tau) and raw slopes are
        // unchanged, so only the temperature terms move; the scaled slopes change by
        // |beta1| * |1/tau' - 1/tau| per cell.
        MoeParams moved = truth;
        moved.temperature = truth.temperature + 0.1;
        moved.gate_bias *= moved.temperature / truth.temperature;
        const auto loss = moesim::fit::tempered_losses(moved, truth);
        CHECK(loss[0] == doctest::Approx(0.1));
        CHECK(loss[1] == doctest::Approx(0.0).scale(1.0));
        CHECK(loss[6] == doctest::Approx(0.1));
        CHECK(loss[7] > 0.0);
    }

    TEST_CASE("tempered split cells: raw errors of beta1, beta1/tau and the experts") {
        // Truth: two atoms (d = 1), tau = 0.5. Fitted at the same tau: atom 0 exactly (its
        // bias raised by tau log 2, so the last_cell gauge, which halves the split cell's
        // mass exp(0/tau) + exp(0/tau) = 2, leaves its mass exp(beta0/tau) at the truth's),
        // the last atom split into two copies of equal mass (shares 1/2 each) with gate
        // slopes +-0.1 (mass-weighted mean 0: the gauge does not move them) and expert
        // slopes off by +0.1 and -0.3.
        MoeParams truth = MoeParams::zeros(2, 1);
        truth.gate_slope << 1.0, 0.0;
        truth.gate_bias << 0.3, 0.0;
        truth.expert_slope << 1.0, -1.0;
        truth.expert_bias << 0.5, -0.5;
        truth.variance << 0.3, 0.2;
        truth.temperature = 0.5;
        MoeParams fitted = MoeParams::zeros(3, 1);
        fitted.gate_slope << 1.0, 0.1, -0.1;
        fitted.gate_bias << 0.3 + 0.5 * std::log(2.0), 0.0, 0.0;
        fitted.expert_slope << 1.0, -0.9, -1.3;
        fitted.expert_bias << 0.5, -0.5, -0.5;
        fitted.variance << 0.3, 0.2, 0.2;
        fitted.temperature = 0.5;
        const auto names = moesim::fit::tempered_split_cell_loss_names();
        REQUIRE(names == std::vector<std::string>{"split_gate_slope", "split_expert_slope",
                                                  "split_expert_bias", "split_variance",
                                                  "split_gate_slope_scaled"});
        const auto split = moesim::fit::tempered_split_cell_losses(fitted, truth);
        REQUIRE(split.size() == names.size());
        CHECK(split[0] == doctest::Approx(0.5 * 0.1 + 0.5 * 0.1).epsilon(1e-12));
        CHECK(split[1] == doctest::Approx(0.5 * 0.1 + 0.5 * 0.3).epsilon(1e-12));
        CHECK(split[2] == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
        CHECK(split[3] == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
        // beta1/tau: the copies' slopes +-0.2 against 0.
        CHECK(split[4] == doctest::Approx(0.5 * 0.2 + 0.5 * 0.2).epsilon(1e-12));
        // The r = 2 losses beside them, same cells: the squares.
        const auto loss = moesim::fit::tempered_losses(fitted, truth);
        CHECK(loss[1] == doctest::Approx(0.0).scale(1.0).epsilon(1e-12)); // gate_mass
        CHECK(loss[3] == doctest::Approx(0.5 * 0.01 + 0.5 * 0.09).epsilon(1e-12));
        // No split cell: 0, however far the atoms are.
        MoeParams off = truth;
        off.expert_slope << 1.2, -0.7;
        off.temperature = 0.6;
        for (double value : moesim::fit::tempered_split_cell_losses(off, truth))
            CHECK(value == 0.0);
    }
}
