#include "moesim/fit/lbfgs.hpp"

#include <Eigen/Dense>
#include <doctest/doctest.h>

#include <cmath>

TEST_SUITE("fit::lbfgs") {
    TEST_CASE("a convex quadratic is minimised at the solution of A x = b") {
        Eigen::MatrixXd a(4, 4);
        a << 4, 1, 0, 0.5, 1, 3, 0.2, 0, 0, 0.2, 2, 0.1, 0.5, 0, 0.1, 1;
        Eigen::VectorXd b(4);
        b << 1, -2, 0.5, 3;
        auto f = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
            g = a * x - b;
            return 0.5 * x.dot(a * x) - b.dot(x);
        };
        const auto result = moesim::fit::minimize_lbfgs(f, Eigen::VectorXd::Zero(4));
        CHECK(result.converged);
        CHECK((result.x - a.ldlt().solve(b)).norm() < 1e-8);
    }

    TEST_CASE("the Rosenbrock function reaches (1, 1) and every step lowers the value") {
        double last = INFINITY;
        bool monotone = true;
        auto f = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
            const double u = 1 - x(0), v = x(1) - x(0) * x(0);
            g.resize(2);
            g << -2 * u - 400 * x(0) * v, 200 * v;
            return u * u + 100 * v * v;
        };
        moesim::fit::LbfgsSettings settings;
        settings.max_iterations = 500;
        Eigen::VectorXd x0(2);
        x0 << -1.2, 1.0;
        // Accepted iterates: rerun with a growing budget and check the value never rises.
        for (std::int64_t budget = 1; budget <= 60; ++budget) {
            settings.max_iterations = budget;
            const double value = moesim::fit::minimize_lbfgs(f, x0, settings).value;
            monotone = monotone && value <= last;
            last = value;
        }
        CHECK(monotone);
        settings.max_iterations = 500;
        const auto result = moesim::fit::minimize_lbfgs(f, x0, settings);
        CHECK(result.x(0) == doctest::Approx(1.0).epsilon(1e-6));
        CHECK(result.x(1) == doctest::Approx(1.0).epsilon(1e-6));
    }

    TEST_CASE("infinite values outside the domain make the search backtrack") {
        // f(x) = x - log(x) on x > 0 (+inf elsewhere), minimum at x = 1; a unit step from 0.1
        // along -f' = 9 would first land on x > 0 far away, and from 3 at a negative x.
        auto f = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
            g.resize(1);
            if (!(x(0) > 0)) {
                g(0) = 0;
                return static_cast<double>(INFINITY);
            }
            g(0) = 1 - 1 / x(0);
            return static_cast<double>(x(0) - std::log(x(0)));
        };
        for (double start : {0.1, 3.0, 50.0}) {
            const auto result = moesim::fit::minimize_lbfgs(f, Eigen::VectorXd::Constant(1, start));
            CHECK(result.x(0) == doctest::Approx(1.0).epsilon(1e-6));
        }
    }
}
