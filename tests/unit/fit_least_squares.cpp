#include "moesim/fit/least_squares.hpp"

#include "moesim/fit/sigmoid_voronoi_loss.hpp"

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <doctest/doctest.h>

#include <cmath>

using moesim::fit::LeastSquaresSettings;
using moesim::model::ExpertFunction;
using moesim::model::ExpertKind;
using moesim::model::SigmoidMoeParams;

namespace {

// Two experts in d = 2 with distinct, non-zero gate slopes (exactly specified: identifiable
// for every expert kind).
SigmoidMoeParams truth() {
    SigmoidMoeParams p = SigmoidMoeParams::zeros(2, 2);
    p.gate_slope << 1.5, -0.5, -1.0, 1.0;
    p.gate_bias << 0.2, -0.3;
    p.expert_slope << 1.0, 0.5, -0.8, 1.2;
    p.expert_bias << 0.4, -0.6;
    return p;
}

double rss(const ExpertFunction& expert, const SigmoidMoeParams& p,
           const moesim::model::Sample& s) {
    return (moesim::model::sigmoid_moe_mean(expert, p, s.x) - s.y).squaredNorm();
}

} // namespace

TEST_CASE("Levenberg-Marquardt lowers the RSS at every step and ends at a local minimum below "
          "the truth's RSS") {
    const auto t = truth();
    for (const ExpertFunction expert :
         {ExpertFunction{ExpertKind::linear}, ExpertFunction{ExpertKind::relu},
          ExpertFunction{ExpertKind::gelu}, ExpertFunction{ExpertKind::polynomial, 2}}) {
        CAPTURE(static_cast<int>(expert.kind));
        const auto sample = moesim::model::sample_sigmoid_moe(expert, t, 0.1, 3, 0, 2000);
        LeastSquaresSettings settings;
        settings.init_noise = 0.3;
        const auto start = moesim::fit::near_truth_init(2, 2000, settings, {&t, 3, 0}, 0);
        const auto result = moesim::fit::levenberg_marquardt(expert, sample.x, sample.y, start,
                                                             settings);
        CHECK(result.converged);
        REQUIRE(result.trace.size() == static_cast<std::size_t>(result.iterations) + 1);
        CHECK(result.trace.front() == doctest::Approx(rss(expert, start, sample)));
        for (std::size_t s = 1; s < result.trace.size(); ++s)
            CHECK(result.trace[s] <= result.trace[s - 1]);
        CHECK(result.trace.back() < result.trace.front());
        CHECK(result.rss == doctest::Approx(rss(expert, result.params, sample)).epsilon(1e-12));
        CHECK(result.rss <= rss(expert, t, sample));
        // At the minimum the gradient J'r vanishes (relative to its scale at the start).
        const Eigen::MatrixXd jac =
            moesim::model::sigmoid_moe_jacobian(expert, result.params, sample.x);
        const Eigen::VectorXd r =
            moesim::model::sigmoid_moe_mean(expert, result.params, sample.x) - sample.y;
        const Eigen::VectorXd r0 = moesim::model::sigmoid_moe_mean(expert, start, sample.x) -
                                   sample.y;
        const Eigen::MatrixXd jac0 = moesim::model::sigmoid_moe_jacobian(expert, start, sample.x);
        // ReLU's RSS has kinks where samples cross a hinge, so LM stops on its step
        // tolerance a little away from a stationary point.
        const double relative = expert.kind == ExpertKind::relu ? 1e-3 : 1e-5;
        CHECK((jac.transpose() * r).norm() < relative * (jac0.transpose() * r0).norm());
    }
}

TEST_CASE("least squares recovers the parameters at large n within their asymptotic "
          "distribution") {
    const auto t = truth();
    const double nu = 0.1;
    for (const ExpertFunction expert :
         {ExpertFunction{ExpertKind::linear}, ExpertFunction{ExpertKind::relu},
          ExpertFunction{ExpertKind::gelu}}) {
        CAPTURE(static_cast<int>(expert.kind));
        const Eigen::Index n = 50000;
        const auto sample = moesim::model::sample_sigmoid_moe(expert, t, nu, 8, 1, n);
        LeastSquaresSettings settings;
        settings.init_noise = 0.3;
        settings.restarts = 2;
        const auto result =
            moesim::fit::fit_least_squares(expert, sample.x, sample.y, 2, settings, {&t, 8, 1});
        CHECK(result.converged);
        // Asymptotic covariance of the least-squares estimator: nu (J'J)^-1 at the truth.
        const Eigen::MatrixXd jac = moesim::model::sigmoid_moe_jacobian(expert, t, sample.x);
        const Eigen::MatrixXd cov = nu * (jac.transpose() * jac).inverse();
        // Experts may come back in either order; match by the Voronoi cells.
        const auto loss = moesim::fit::sigmoid_voronoi_loss(result.params, t);
        REQUIRE(loss.cell[0] != loss.cell[1]);
        const SigmoidMoeParams fit =
            result.params.permuted({loss.cell[0] == 0 ? 0 : 1, loss.cell[0] == 0 ? 1 : 0});
        const Eigen::VectorXd error = fit.pack() - t.pack();
        for (Eigen::Index q = 0; q < error.size(); ++q) {
            CAPTURE(q);
            const double se = std::sqrt(cov(q, q));
            CHECK(se < 0.15); // n is large enough for the test to mean something
            CHECK(std::abs(error(q)) < 5 * se);
        }
        // Jointly: error' cov^-1 error is asymptotically chi-square with 12 degrees of
        // freedom, whose 0.999 quantile is 32.91.
        CHECK(error.dot(cov.ldlt().solve(error)) < 32.91);
    }
}

TEST_CASE("restarts keep the lowest RSS and fits are pure functions of their inputs") {
    const auto t = truth();
    const ExpertFunction expert{ExpertKind::relu};
    const auto sample = moesim::model::sample_sigmoid_moe(expert, t, 0.1, 4, 2, 1000);
    LeastSquaresSettings settings;
    settings.init_noise = 1.0;
    settings.restarts = 3;
    const auto best = moesim::fit::fit_least_squares(expert, sample.x, sample.y, 2, settings,
                                                     {&t, 4, 2});
    for (std::uint32_t r = 0; r < 3; ++r) {
        const auto start = moesim::fit::near_truth_init(2, 1000, settings, {&t, 4, 2}, r);
        const auto one = moesim::fit::levenberg_marquardt(expert, sample.x, sample.y, start,
                                                          settings);
        CHECK(best.rss <= one.rss);
        if (static_cast<std::int64_t>(r) == best.restart)
            CHECK(one.params.pack() == best.params.pack());
    }
    const auto again = moesim::fit::fit_least_squares(expert, sample.x, sample.y, 2, settings,
                                                      {&t, 4, 2});
    CHECK(again.params.pack() == best.params.pack());
    CHECK(again.iterations == best.iterations);
}

TEST_CASE("the near-truth init splits a true atom's gate value over its copies") {
    SigmoidMoeParams t = SigmoidMoeParams::zeros(2, 1);
    t.gate_bias << 0.0, 1.0;
    LeastSquaresSettings settings;
    settings.init_noise = 0.0;
    const auto init = moesim::fit::near_truth_init(5, 100, settings, {&t, 1, 0}, 0);
    auto sigmoid = [](double g) { return 1.0 / (1.0 + std::exp(-g)); };
    // Experts 0, 2, 4 copy atom 0; 1, 3 copy atom 1.
    CHECK(3 * sigmoid(init.gate_bias(0)) == doctest::Approx(0.5));
    CHECK(2 * sigmoid(init.gate_bias(1)) == doctest::Approx(sigmoid(1.0)));
    CHECK(init.gate_bias(2) == init.gate_bias(4));
}

TEST_CASE("a parameter bound keeps every fitted parameter inside it and still lowers the RSS") {
    const auto t = truth();
    const ExpertFunction expert{ExpertKind::gelu};
    const auto sample = moesim::model::sample_sigmoid_moe(expert, t, 0.1, 6, 0, 1000);
    LeastSquaresSettings settings;
    settings.init_noise = 0.5;
    settings.parameter_bound = 1.6; // tighter than the truth's largest value 1.5 + noise
    const auto start = moesim::fit::near_truth_init(2, 1000, settings, {&t, 6, 0}, 0);
    const auto result =
        moesim::fit::levenberg_marquardt(expert, sample.x, sample.y, start, settings);
    CHECK(result.params.pack().cwiseAbs().maxCoeff() < 1.6);
    for (std::size_t s = 1; s < result.trace.size(); ++s)
        CHECK(result.trace[s] <= result.trace[s - 1]);
    CHECK(result.rss < result.trace.front());
    CHECK(result.rss == doctest::Approx(rss(expert, result.params, sample)).epsilon(1e-12));
    // Far inside a large bound the reparametrisation changes nothing but rounding.
    settings.parameter_bound = 1e4;
    const auto wide = moesim::fit::levenberg_marquardt(expert, sample.x, sample.y, start, settings);
    settings.parameter_bound = 0.0;
    const auto free = moesim::fit::levenberg_marquardt(expert, sample.x, sample.y, start, settings);
    CHECK(wide.rss == doctest::Approx(free.rss).epsilon(1e-9));
}
