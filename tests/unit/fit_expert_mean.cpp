// Nonlinear expert means phi(a'x + b) (model/expert_function, fit/expert_mean_step) in the EM
// fits of the Gaussian and contaminated MoEs: gradients against finite differences, the
// Levenberg-Marquardt step against closed forms where one exists, and monotone EM traces.

#include "moesim/fit/contaminated_em.hpp"
#include "moesim/fit/em.hpp"
#include "moesim/fit/expert_mean_step.hpp"

#include "moesim/core/philox.hpp"

#include <Eigen/Cholesky>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using moesim::fit::EmSettings;
using moesim::model::ExpertFunction;
using moesim::model::ExpertKind;

namespace {

const std::vector<ExpertFunction> all_means = {
    {ExpertKind::linear, 2}, {ExpertKind::tanh, 2}, {ExpertKind::sigmoid, 2},
    {ExpertKind::gelu, 2},   {ExpertKind::relu, 2}, {ExpertKind::polynomial, 3}};

// n x d standard normal inputs and responses y = tanh(x1) + noise, from Philox.
void toy_data(Eigen::Index n, Eigen::Index d, Eigen::MatrixXd& x, Eigen::VectorXd& y,
              Eigen::VectorXd& w) {
    const moesim::core::Philox rng(17, "test.expert_mean");
    x.resize(n, d);
    y.resize(n);
    w.resize(n);
    for (Eigen::Index m = 0; m < n; ++m) {
        for (Eigen::Index c = 0; c < d; ++c)
            x(m, c) = rng.normal_pair(static_cast<std::uint64_t>(m), 0, static_cast<std::uint32_t>(c))[0];
        y(m) = std::tanh(x(m, 0)) + 0.3 * rng.normal_pair(static_cast<std::uint64_t>(m), 1, 0)[0];
        w(m) = rng.uniform_pair(static_cast<std::uint64_t>(m), 2, 0)[0];
    }
}

void check_monotone(const std::vector<double>& trace) {
    REQUIRE(trace.size() >= 3);
    for (std::size_t t = 1; t < trace.size(); ++t)
        CHECK(trace[t] >= trace[t - 1] - 1e-10 * std::abs(trace[t - 1]));
    CHECK(trace.back() > trace.front());
}

} // namespace

TEST_SUITE("fit::expert_mean") {
    TEST_CASE("phi' matches central finite differences of phi for every mean function") {
        for (const auto& phi : all_means)
            for (double z : {-1.7, -0.4, 0.3, 1.1, 2.5}) {
                const double h = 1e-6;
                const double fd = (phi.value(z + h) - phi.value(z - h)) / (2 * h);
                INFO("kind ", static_cast<int>(phi.kind), " z ", z);
                CHECK(phi.derivative(z) == doctest::Approx(fd).epsilon(1e-7));
                Eigen::VectorXd u(1), v, dv;
                u << z;
                phi.evaluate(u, v, dv);
                CHECK(v(0) == phi.value(z));
                CHECK(dv(0) == doctest::Approx(phi.derivative(z)).epsilon(1e-15));
            }
        CHECK(ExpertFunction{ExpertKind::tanh, 2}.value(0.7) ==
              doctest::Approx(std::tanh(0.7)).epsilon(1e-15));
        CHECK(ExpertFunction{ExpertKind::sigmoid, 2}.value(0.0) == 0.5);
    }

    TEST_CASE("the weighted squared error's gradient matches central finite differences") {
        Eigen::MatrixXd x;
        Eigen::VectorXd y, w;
        toy_data(200, 3, x, y, w);
        Eigen::VectorXd slope(3);
        slope << 0.8, -0.3, 0.2;
        const double bias = 0.15;
        for (const auto& phi : all_means) {
            const auto s = moesim::fit::weighted_squared_error(phi, x, y, w, slope, bias);
            REQUIRE(s.gradient.size() == 4);
            const double h = 1e-6;
            for (Eigen::Index j = 0; j < 4; ++j) {
                Eigen::VectorXd up = slope, down = slope;
                double bias_up = bias, bias_down = bias;
                if (j == 0) {
                    bias_up += h;
                    bias_down -= h;
                } else {
                    up(j - 1) += h;
                    down(j - 1) -= h;
                }
                const double fd =
                    (moesim::fit::weighted_squared_error(phi, x, y, w, up, bias_up, false).value -
                     moesim::fit::weighted_squared_error(phi, x, y, w, down, bias_down, false)
                         .value) /
                    (2 * h);
                INFO("kind ", static_cast<int>(phi.kind), " coordinate ", j);
                // ReLU: no sample sits within h of its kink here (checked by the tolerance).
                CHECK(s.gradient(j) == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
            }
        }
    }

    TEST_CASE("for linear means the step reaches the closed-form weighted least squares") {
        Eigen::MatrixXd x;
        Eigen::VectorXd y, w;
        toy_data(300, 2, x, y, w);
        const ExpertFunction linear{ExpertKind::linear, 2};
        // With the bias: regression of y on (1, x).
        Eigen::MatrixXd x1(300, 3);
        x1.col(0).setOnes();
        x1.rightCols(2) = x;
        const Eigen::MatrixXd xtw = x1.transpose() * w.asDiagonal();
        const Eigen::VectorXd coef = (xtw * x1).ldlt().solve(xtw * y);
        Eigen::VectorXd slope = Eigen::VectorXd::Zero(2);
        double bias = 0.0;
        moesim::fit::expert_mean_step(linear, x, y, w, true, 5, slope, bias);
        CHECK(bias == doctest::Approx(coef(0)).epsilon(1e-9));
        CHECK(slope(0) == doctest::Approx(coef(1)).epsilon(1e-9));
        CHECK(slope(1) == doctest::Approx(coef(2)).epsilon(1e-9));
        // Bias held at 0.4: regression of y - 0.4 on x alone; the bias does not move.
        const Eigen::MatrixXd xtw0 = x.transpose() * w.asDiagonal();
        const Eigen::VectorXd coef0 =
            (xtw0 * x).ldlt().solve(xtw0 * (y.array() - 0.4).matrix());
        slope.setZero();
        bias = 0.4;
        moesim::fit::expert_mean_step(linear, x, y, w, false, 5, slope, bias);
        CHECK(bias == 0.4);
        CHECK(slope(0) == doctest::Approx(coef0(0)).epsilon(1e-9));
        CHECK(slope(1) == doctest::Approx(coef0(1)).epsilon(1e-9));
    }

    TEST_CASE("the step never raises the weighted squared error and finds tanh's minimiser") {
        Eigen::MatrixXd x;
        Eigen::VectorXd y, w;
        toy_data(2000, 2, x, y, w);
        const ExpertFunction tanh_mean{ExpertKind::tanh, 2};
        Eigen::VectorXd slope(2);
        slope << 0.2, 0.5;
        double bias = -0.3;
        double previous = moesim::fit::weighted_squared_error(tanh_mean, x, y, w, slope, bias,
                                                              false).value;
        for (int round = 0; round < 10; ++round) {
            const double now =
                moesim::fit::expert_mean_step(tanh_mean, x, y, w, true, 1, slope, bias);
            CHECK(now <= previous);
            previous = now;
        }
        // At the minimiser the gradient vanishes (relative to its size at the start).
        const auto at = moesim::fit::weighted_squared_error(tanh_mean, x, y, w, slope, bias);
        CHECK(at.gradient.norm() < 1e-6 * at.value);
        // y = tanh(x1) + noise: near (1, 0) and 0.
        CHECK(std::abs(slope(0) - 1.0) < 0.15);
        CHECK(std::abs(slope(1)) < 0.1);
        CHECK(std::abs(bias) < 0.1);
    }

    TEST_CASE("EM with nonlinear expert means never decreases the log-likelihood") {
        moesim::model::MoeParams truth = moesim::model::MoeParams::zeros(2, 2);
        truth.gate_slope << 1.5, -0.5, 0.0, 0.0;
        truth.gate_bias << 0.3, 0.0;
        truth.expert_slope << 1.0, 0.5, -1.0, 0.3;
        truth.expert_bias << 0.5, -0.5;
        truth.variance << 0.1, 0.05;
        const moesim::model::SoftmaxGate softmax;
        for (const auto& phi : all_means) {
            INFO("kind ", static_cast<int>(phi.kind));
            const auto data = moesim::model::sample_moe(softmax, truth, 3, 1, 1500, 1.0, phi);
            EmSettings settings;
            settings.tolerance = 1e-12;
            settings.max_iterations = 100;
            settings.init_noise = 0.3;
            settings.expert_mean = phi;
            const auto fit = moesim::fit::fit_em(softmax, data.x, data.y, 2, settings,
                                                 {&truth, 3, 1});
            check_monotone(fit.trace);
            // The log-likelihood reported is the data's under phi (not under linear means).
            CHECK(fit.log_likelihood ==
                  doctest::Approx(
                      moesim::model::log_density(softmax, fit.params, data.x, data.y, phi).sum()));
            settings.fit_expert_bias = false;
            const auto held = moesim::fit::fit_em(softmax, data.x, data.y, 2, settings,
                                                  {&truth, 3, 1});
            check_monotone(held.trace);
            CHECK(held.params.expert_bias == truth.expert_bias);
        }
    }

    TEST_CASE("tanh experts of a Gaussian MoE are recovered at large n") {
        moesim::model::MoeParams truth = moesim::model::MoeParams::zeros(2, 1);
        truth.gate_slope << 1.5, 0.0;
        truth.gate_bias << 0.3, 0.0;
        truth.expert_slope << 1.5, -1.0;
        truth.expert_bias << 0.5, -0.5;
        truth.variance << 0.05, 0.05;
        const moesim::model::SoftmaxGate softmax;
        const ExpertFunction tanh_mean{ExpertKind::tanh, 2};
        const auto data = moesim::model::sample_moe(softmax, truth, 4, 2, 40000, 1.0, tanh_mean);
        EmSettings settings;
        settings.init_noise = 0.2;
        settings.expert_mean = tanh_mean;
        const auto fit = moesim::fit::fit_em(softmax, data.x, data.y, 2, settings, {&truth, 4, 2});
        CHECK(fit.converged);
        const double tol = 10.0 / std::sqrt(40000.0);
        CHECK((fit.params.expert_slope - truth.expert_slope).cwiseAbs().maxCoeff() < tol);
        CHECK((fit.params.expert_bias - truth.expert_bias).cwiseAbs().maxCoeff() < tol);
        CHECK((fit.params.variance - truth.variance).cwiseAbs().maxCoeff() < tol);
        CHECK(fit.log_likelihood >=
              moesim::model::log_density(softmax, truth, data.x, data.y, tanh_mean).sum());
    }

    TEST_CASE("softmax-contaminated EM with tanh experts and no biases (arXiv 2505.18455)") {
        using moesim::model::PromptGate;
        const Eigen::Index d = 3;
        moesim::model::PretrainedExpert f0;
        f0.family = moesim::model::PretrainedFamily::laplace;
        f0.slope = Eigen::VectorXd::Unit(d, 0);
        f0.scale = std::sqrt(0.01 / 2.0);
        f0.mean = {ExpertKind::tanh, 2};
        moesim::model::ContaminatedParams truth = moesim::model::ContaminatedParams::zeros(d);
        truth.gate_slope = Eigen::VectorXd::Constant(d, 1.0 / std::sqrt(double(d)));
        truth.gate_bias = 1.0;
        truth.prompt_slope = -Eigen::VectorXd::Unit(d, 0);
        truth.prompt_variance = 0.01;
        const ExpertFunction tanh_mean{ExpertKind::tanh, 2};
        const Eigen::Index n = 20000;
        const auto data = moesim::model::sample_contaminated(PromptGate::softmax, f0, truth, 6, 1,
                                                             n, 1.0, tanh_mean);
        // f0's density is the Laplace one around tanh(x1).
        const Eigen::VectorXd log_f0 = f0.log_density(data.x, data.y);
        const double m0 = std::tanh(data.x(0, 0));
        CHECK(log_f0(0) == doctest::Approx(-std::log(2 * f0.scale) -
                                           std::abs(data.y(0) - m0) / f0.scale));
        EmSettings settings;
        settings.init_noise = 0.1;
        settings.tolerance = 1e-12;
        settings.max_iterations = 200;
        settings.expert_mean = tanh_mean;
        settings.fit_expert_bias = false;
        const auto fit = moesim::fit::fit_contaminated_em(PromptGate::softmax, f0, data.x, data.y,
                                                          truth, settings, 6, 1);
        check_monotone(fit.trace);
        CHECK(fit.params.prompt_bias == 0.0);
        const double tol = 8.0 / std::sqrt(static_cast<double>(n));
        CHECK((fit.params.prompt_slope - truth.prompt_slope).norm() < tol);
        CHECK((fit.params.gate_slope - truth.gate_slope).norm() < 4 * tol);
        CHECK(std::abs(fit.params.gate_bias - truth.gate_bias) < 4 * tol);
        CHECK(std::abs(fit.params.prompt_variance - truth.prompt_variance) < tol);
        CHECK(fit.log_likelihood >=
              moesim::model::contaminated_log_density(PromptGate::softmax, f0, truth, data.x,
                                                      data.y, tanh_mean)
                  .sum());
    }
}
