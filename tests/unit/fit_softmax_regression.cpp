// The softmax-gated least-squares regression (rates.gate = "softmax_regression"): its
// Jacobian against finite differences, the one-expert case against plain nonlinear least
// squares, and recovery of the truth by the Levenberg-Marquardt fit.

#include "moesim/fit/least_squares.hpp"

#include <doctest/doctest.h>

#include <cmath>

using moesim::model::ExpertFunction;
using moesim::model::ExpertKind;
using moesim::model::RegressionGate;
using moesim::model::SigmoidMoeParams;

namespace {

SigmoidMoeParams truth() {
    SigmoidMoeParams p = SigmoidMoeParams::zeros(2, 2);
    p.gate_slope << 2.0, -1.0, 0.0, 0.0;
    p.gate_bias << 0.5, 0.0;
    p.expert_slope << 1.0, 0.5, -1.5, 1.0;
    p.expert_bias << 0.3, -0.2;
    return p;
}

} // namespace

TEST_SUITE("fit::softmax_regression") {
    TEST_CASE("the softmax regression's Jacobian matches central finite differences") {
        const auto data = moesim::model::sample_sigmoid_moe({ExpertKind::gelu, 2}, truth(), 0.1, 3,
                                                            0, 50, 1.0, RegressionGate::softmax);
        for (const ExpertFunction phi : {ExpertFunction{ExpertKind::linear, 2},
                                         ExpertFunction{ExpertKind::gelu, 2},
                                         ExpertFunction{ExpertKind::tanh, 2},
                                         ExpertFunction{ExpertKind::polynomial, 3}}) {
            const Eigen::MatrixXd jac = moesim::model::sigmoid_moe_jacobian(
                phi, truth(), data.x, RegressionGate::softmax);
            const Eigen::VectorXd theta = truth().pack();
            for (Eigen::Index j = 0; j < theta.size(); ++j) {
                const double h = 1e-6;
                Eigen::VectorXd up = theta, down = theta;
                up(j) += h;
                down(j) -= h;
                const Eigen::VectorXd fd =
                    (moesim::model::sigmoid_moe_mean(phi, SigmoidMoeParams::unpack(up, 2, 2),
                                                     data.x, RegressionGate::softmax) -
                     moesim::model::sigmoid_moe_mean(phi, SigmoidMoeParams::unpack(down, 2, 2),
                                                     data.x, RegressionGate::softmax)) /
                    (2 * h);
                INFO("kind ", static_cast<int>(phi.kind), " parameter ", j);
                CHECK((jac.col(j) - fd).cwiseAbs().maxCoeff() < 1e-7);
            }
        }
    }

    TEST_CASE("the softmax weights sum to one: constant experts give their common value") {
        SigmoidMoeParams p = truth();
        p.expert_slope.setZero();
        p.expert_bias.setConstant(0.7);
        const auto data = moesim::model::sample_sigmoid_moe({ExpertKind::linear, 2}, p, 0.0, 3, 0,
                                                            20, 1.0, RegressionGate::softmax);
        CHECK((data.y.array() - 0.7).abs().maxCoeff() < 1e-15);
    }

    TEST_CASE("with one expert the fit is plain nonlinear least squares of phi(a'x + b)") {
        SigmoidMoeParams one = SigmoidMoeParams::zeros(1, 2);
        one.gate_bias << 3.0; // any gate: the softmax of one logit is 1
        one.gate_slope << 0.4, -0.2;
        one.expert_slope << 1.2, -0.7;
        one.expert_bias << 0.4;
        const ExpertFunction phi{ExpertKind::tanh, 2};
        const auto data = moesim::model::sample_sigmoid_moe(phi, one, 0.05, 8, 1, 4000, 1.0,
                                                            RegressionGate::softmax);
        // The mean is phi(a'x + b) exactly, and the gate columns of the Jacobian vanish.
        const Eigen::VectorXd f =
            moesim::model::sigmoid_moe_mean(phi, one, data.x, RegressionGate::softmax);
        for (Eigen::Index m = 0; m < 5; ++m)
            CHECK(f(m) == doctest::Approx(std::tanh(1.2 * data.x(m, 0) - 0.7 * data.x(m, 1) + 0.4))
                              .epsilon(1e-15));
        const Eigen::MatrixXd jac =
            moesim::model::sigmoid_moe_jacobian(phi, one, data.x, RegressionGate::softmax);
        CHECK(jac.leftCols(3).cwiseAbs().maxCoeff() == 0.0);
        moesim::fit::LeastSquaresSettings settings;
        settings.gate = RegressionGate::softmax;
        settings.init_noise = 0.1;
        const auto fit =
            moesim::fit::fit_least_squares(phi, data.x, data.y, 1, settings, {&one, 8, 1});
        // The expert solves the normal equations of y ~ tanh(a'x + b): the residuals are
        // orthogonal to the Jacobian's columns.
        const Eigen::VectorXd resid =
            data.y - moesim::model::sigmoid_moe_mean(phi, fit.params, data.x, RegressionGate::softmax);
        const Eigen::MatrixXd j =
            moesim::model::sigmoid_moe_jacobian(phi, fit.params, data.x, RegressionGate::softmax);
        CHECK((j.transpose() * resid).cwiseAbs().maxCoeff() < 1e-6 * resid.squaredNorm());
        CHECK(std::abs(fit.params.expert_slope(0, 0) - 1.2) < 0.05);
        CHECK(std::abs(fit.params.expert_bias(0) - 0.4) < 0.05);
    }

    TEST_CASE("softmax regression recovers the truth up to the gate translation") {
        const ExpertFunction phi{ExpertKind::relu, 2};
        const auto data = moesim::model::sample_sigmoid_moe(phi, truth(), 0.1, 5, 2, 20000, 1.0,
                                                            RegressionGate::softmax);
        moesim::fit::LeastSquaresSettings settings;
        settings.gate = RegressionGate::softmax;
        settings.init_noise = 0.1;
        const auto t = truth();
        const auto fit = moesim::fit::fit_least_squares(phi, data.x, data.y, 2, settings, {&t, 5, 2});
        CHECK(fit.converged);
        CHECK(fit.trace.back() <= fit.trace.front());
        // The fit is the minimiser: no worse than the truth.
        const Eigen::VectorXd at_truth =
            data.y - moesim::model::sigmoid_moe_mean(phi, t, data.x, RegressionGate::softmax);
        CHECK(fit.rss <= at_truth.squaredNorm());
        const double tol = 0.1;
        // Differences of gates are identified (more weakly: where both ReLUs are 0, the gate
        // does not matter; 0.13 measured for the bias).
        CHECK(std::abs((fit.params.gate_bias(0) - fit.params.gate_bias(1)) - 0.5) < 3 * tol);
        CHECK(std::abs((fit.params.gate_slope(0, 0) - fit.params.gate_slope(1, 0)) - 2.0) < 3 * tol);
        CHECK((fit.params.expert_slope - t.expert_slope).cwiseAbs().maxCoeff() < tol);
        CHECK((fit.params.expert_bias - t.expert_bias).cwiseAbs().maxCoeff() < tol);
    }
}
