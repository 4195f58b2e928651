// The density loss (fit/density_loss): zero at the truth, symmetric, bounded, and equal to
// an independent numpy Monte Carlo estimate (tests/unit/reference/density_hellinger.py: 4e6
// draws per input, its printed values and standard errors are held here).

#include "moesim/fit/density_loss.hpp"

#include <doctest/doctest.h>

#include <cmath>

using moesim::fit::MixtureAtX;
using moesim::model::ExpertFunction;
using moesim::model::ExpertKind;

namespace {

const ExpertFunction tanh_mean{ExpertKind::tanh, 2};

moesim::model::PretrainedExpert laplace_f0() {
    moesim::model::PretrainedExpert f0;
    f0.family = moesim::model::PretrainedFamily::laplace;
    f0.slope = Eigen::VectorXd::Constant(1, 1.0);
    f0.scale = 0.3;
    f0.mean = tanh_mean;
    return f0;
}

moesim::model::ContaminatedParams prompt(double a, double nu, double beta, double tau) {
    auto p = moesim::model::ContaminatedParams::zeros(1);
    p.prompt_slope << a;
    p.prompt_variance = nu;
    p.gate_slope << beta;
    p.gate_bias = tau;
    return p;
}

moesim::model::MoeParams moe(double beta1, double beta0, double a0, double a1, double b0,
                             double nu0) {
    auto p = moesim::model::MoeParams::zeros(2, 1);
    p.gate_slope << beta1, 0.0;
    p.gate_bias << beta0, 0.0;
    p.expert_slope << a0, a1;
    p.expert_bias << b0, -0.5;
    p.variance << nu0, 0.2;
    return p;
}

Eigen::MatrixXd inputs() {
    Eigen::MatrixXd x(4, 1);
    x << -1.0, 0.0, 0.5, 1.5;
    return x;
}

} // namespace

TEST_SUITE("fit::density_loss") {
    TEST_CASE("the Hellinger distance matches an independent Monte Carlo estimate") {
        const auto x = inputs();
        const auto p = moesim::fit::contaminated_mixtures(moesim::model::PromptGate::softmax,
                                                          laplace_f0(), prompt(-0.8, 0.07, 1.3, 0.2),
                                                          x, tanh_mean);
        const auto q = moesim::fit::contaminated_mixtures(moesim::model::PromptGate::softmax,
                                                          laplace_f0(), prompt(-1.0, 0.05, 1.0, 0.5),
                                                          x, tanh_mean);
        // numpy: H and its standard error at x = -1, 0, 0.5, 1.5.
        const double mc[4] = {0.127782, 0.049517, 0.105132, 0.121509};
        const double se[4] = {4.4e-05, 1.9e-05, 3.0e-05, 7.2e-05};
        for (int m = 0; m < 4; ++m) {
            INFO("contaminated, x = ", x(m, 0));
            CHECK(std::abs(moesim::fit::hellinger_distance(p[m], q[m]) - mc[m]) < 5 * se[m] + 1e-6);
        }
        const moesim::model::SoftmaxGate softmax;
        const auto f = moesim::fit::moe_mixtures(softmax, moe(1.2, 0.5, 1.2, -0.9, 0.4, 0.25), x,
                                                 tanh_mean);
        const auto t = moesim::fit::moe_mixtures(softmax, moe(1.5, 0.3, 1.0, -1.0, 0.5, 0.3), x,
                                                 tanh_mean);
        const double mc_moe[4] = {0.118691, 0.051961, 0.035225, 0.041413};
        const double se_moe[4] = {4.1e-05, 4.7e-05, 3.1e-05, 2.9e-05};
        double mean = 0.0;
        for (int m = 0; m < 4; ++m) {
            INFO("moe, x = ", x(m, 0));
            const double h = moesim::fit::hellinger_distance(f[m], t[m]);
            CHECK(std::abs(h - mc_moe[m]) < 5 * se_moe[m] + 1e-6);
            mean += h / 4.0;
        }
        CHECK(moesim::fit::expected_hellinger(f, t) == doctest::Approx(mean).epsilon(1e-14));
    }

    TEST_CASE("the density loss is 0 at the truth, symmetric and at most 1") {
        const Eigen::MatrixXd x = moesim::fit::density_evaluation_inputs(7, 50, 1, 1.0);
        const moesim::model::SoftmaxGate softmax;
        const auto truth = moe(1.5, 0.3, 1.0, -1.0, 0.5, 0.3);
        const auto t = moesim::fit::moe_mixtures(softmax, truth, x, tanh_mean);
        CHECK(moesim::fit::expected_hellinger(t, t) == 0.0);
        const auto f = moesim::fit::moe_mixtures(softmax, moe(1.2, 0.5, 1.2, -0.9, 0.4, 0.25), x,
                                                 tanh_mean);
        const double forward = moesim::fit::expected_hellinger(f, t);
        CHECK(forward > 0.0);
        CHECK(forward == doctest::Approx(moesim::fit::expected_hellinger(t, f)).epsilon(1e-12));
        // Far apart: H -> 1.
        const auto far = moesim::fit::moe_mixtures(softmax, moe(1.5, 0.3, 1.0, -1.0, 40.0, 0.3), x,
                                                   {ExpertKind::linear, 2});
        const auto near = moesim::fit::moe_mixtures(softmax, moe(1.5, 0.3, 1.0, -1.0, -40.0, 0.3),
                                                    x, {ExpertKind::linear, 2});
        const double apart = moesim::fit::expected_hellinger(far, near);
        CHECK(apart <= 1.0);
        CHECK(apart > 0.5);
        // Two Gaussians N(0, 1), N(mu, 1): H^2 = 1 - exp(-mu^2 / 8) in closed form.
        const MixtureAtX a = {{0.0, false, 0.0, 1.0}}, b = {{0.0, false, 1.3, 1.0}};
        CHECK(moesim::fit::hellinger_distance(a, b) ==
              doctest::Approx(std::sqrt(1.0 - std::exp(-1.3 * 1.3 / 8.0))).epsilon(1e-10));
        // Two Laplace(0, s), Laplace(mu, s): integral sqrt(pq) = (1 + mu/(2s)) exp(-mu/(2s)).
        // Each side's rule is smooth about its own location, not about the other's kink, so
        // this is the quadrature's worst case: 1e-4 relative (7e-5 measured).
        const MixtureAtX la = {{0.0, true, 0.0, 0.5}}, lb = {{0.0, true, 0.4, 0.5}};
        const double r = 0.4 / (2 * 0.5);
        CHECK(moesim::fit::hellinger_distance(la, lb) ==
              doctest::Approx(std::sqrt(1.0 - (1.0 + r) * std::exp(-r))).epsilon(1e-4));
    }

    TEST_CASE("the least-squares families' density loss: closed form against Monte Carlo") {
        // numpy (tests/unit/reference/density_hellinger.py, case 3): H and its standard error.
        const double pairs[3][4] = {{0.3, 0.12, 0.0, 0.1}, {1.0, 0.05, 1.2, 0.08},
                                    {-0.5, 0.1, -0.5, 0.2}};
        const double mc[3] = {0.314661, 0.294435, 0.170384};
        const double se[3] = {9.5e-05, 1.1e-04, 1.2e-04};
        for (int c = 0; c < 3; ++c) {
            const auto& q = pairs[c];
            INFO("case ", c);
            const double h = moesim::fit::gaussian_hellinger(q[0], q[1], q[2], q[3]);
            CHECK(std::abs(h - mc[c]) < 5 * se[c]);
            // Symmetric, and the same as the quadrature of the mixture form.
            CHECK(h == doctest::Approx(moesim::fit::gaussian_hellinger(q[2], q[3], q[0], q[1]))
                           .epsilon(1e-14));
            const MixtureAtX p1 = {{0.0, false, q[0], std::sqrt(q[1])}};
            const MixtureAtX p2 = {{0.0, false, q[2], std::sqrt(q[3])}};
            CHECK(h == doctest::Approx(moesim::fit::hellinger_distance(p1, p2)).epsilon(1e-9));
        }
        // 0 at the truth; tiny distances are not lost to cancellation (H ~ |gap| / sqrt(8 v)).
        CHECK(moesim::fit::gaussian_hellinger(0.4, 0.1, 0.4, 0.1) == 0.0);
        CHECK(moesim::fit::gaussian_hellinger(0.0, 0.1, 1e-9, 0.1) ==
              doctest::Approx(1e-9 / std::sqrt(8 * 0.1)).epsilon(1e-6));
        Eigen::VectorXd f(3), g(3);
        f << 0.3, 1.0, -0.5;
        g << 0.0, 1.2, -0.5;
        CHECK(moesim::fit::regression_hellinger(f, 0.1, f, 0.1) == 0.0);
        const double mean = (moesim::fit::gaussian_hellinger(0.3, 0.1, 0.0, 0.2) +
                             moesim::fit::gaussian_hellinger(1.0, 0.1, 1.2, 0.2) +
                             moesim::fit::gaussian_hellinger(-0.5, 0.1, -0.5, 0.2)) /
                            3.0;
        CHECK(moesim::fit::regression_hellinger(f, 0.1, g, 0.2) ==
              doctest::Approx(mean).epsilon(1e-14));
    }
}
