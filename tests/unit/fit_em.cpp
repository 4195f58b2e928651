#include "moesim/fit/em.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <Eigen/Eigenvalues>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

using moesim::fit::EmSettings;
using moesim::model::MoeParams;

namespace {

MoeParams truth_k2_d1() {
    MoeParams p = MoeParams::zeros(2, 1);
    p.gate_slope << 1.5, 0.0;
    p.gate_bias << 0.3, 0.0;
    p.expert_slope << 1.0, -1.0;
    p.expert_bias << 0.5, -0.5;
    p.variance << 0.3, 0.2;
    return p;
}

MoeParams truth_k3_d2() {
    MoeParams p = MoeParams::zeros(3, 2);
    p.gate_slope << 1.0, -0.5, -1.0, 0.5, 0.0, 0.0;
    p.gate_bias << 0.2, -0.1, 0.0;
    p.expert_slope << 1.0, 0.5, -1.0, 0.0, 0.0, 2.0;
    p.expert_bias << 1.0, -1.0, 0.0;
    p.variance << 0.2, 0.3, 0.25;
    return p;
}

const moesim::model::SoftmaxGate softmax;

} // namespace

TEST_SUITE("fit::em") {
    TEST_CASE("the gate gradient and Hessian match central finite differences") {
        const MoeParams truth = truth_k3_d2();
        const auto data = moesim::model::sample_moe(moesim::model::SoftmaxGate(), truth, 5, 0, 300);
        // Nonnegative weights whose rows do not sum to 1, to exercise the general form.
        const moesim::core::Philox rng(5, "test.weights");
        Eigen::MatrixXd resp(300, 3);
        for (Eigen::Index m = 0; m < 300; ++m)
            for (Eigen::Index i = 0; i < 3; ++i)
                resp(m, i) = rng.uniform_pair(static_cast<std::uint64_t>(m),
                                              static_cast<std::uint32_t>(i), 0)[0];
        MoeParams at = truth;
        at.gate_slope << 0.3, 0.2, -0.4, 0.9, 0.0, 0.0;
        at.gate_bias << -0.2, 0.4, 0.0;
        const auto q = moesim::fit::gate_objective(softmax, data.x, resp, at);
        const Eigen::VectorXd theta = moesim::fit::pack_gate(at);
        REQUIRE(theta.size() == 6);
        const double h = 1e-5;
        for (Eigen::Index p = 0; p < theta.size(); ++p) {
            MoeParams plus = at, minus = at;
            Eigen::VectorXd tp = theta, tm = theta;
            tp(p) += h;
            tm(p) -= h;
            moesim::fit::unpack_gate(tp, plus);
            moesim::fit::unpack_gate(tm, minus);
            const auto qp = moesim::fit::gate_objective(softmax, data.x, resp, plus);
            const auto qm = moesim::fit::gate_objective(softmax, data.x, resp, minus);
            const double fd = (qp.value - qm.value) / (2 * h);
            CHECK(q.gradient(p) == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
            const Eigen::VectorXd fd_col = (qp.gradient - qm.gradient) / (2 * h);
            CHECK((q.hessian.col(p) - fd_col).norm() <= 1e-6 * (1.0 + fd_col.norm()));
        }
        // Concave: the Hessian is negative semi-definite.
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(q.hessian);
        CHECK(eig.eigenvalues().maxCoeff() <= 1e-9);
    }

    TEST_CASE("the log-likelihood never decreases across EM iterations") {
        const MoeParams truth = truth_k3_d2();
        const auto data =
            moesim::model::sample_moe(moesim::model::SoftmaxGate(), truth, 9, 1, 2000);
        EmSettings settings;
        settings.tolerance = 1e-12;
        settings.max_iterations = 300;
        settings.restarts = 2;
        SUBCASE("k-means++ init, exact fit") {
            settings.init = moesim::fit::EmInit::kmeans_pp;
            const auto fit =
                moesim::fit::fit_em(softmax, data.x, data.y, 3, settings, {nullptr, 9, 1});
            REQUIRE(fit.trace.size() >= 3);
            for (std::size_t t = 1; t < fit.trace.size(); ++t)
                CHECK(fit.trace[t] >= fit.trace[t - 1] - 1e-10 * std::abs(fit.trace[t - 1]));
            CHECK(fit.trace.back() > fit.trace.front());
        }
        SUBCASE("near-truth init, over-specified (4 experts for 3)") {
            settings.init = moesim::fit::EmInit::near_truth;
            settings.init_noise = 0.3;
            const auto fit =
                moesim::fit::fit_em(softmax, data.x, data.y, 4, settings, {&truth, 9, 1});
            for (std::size_t t = 1; t < fit.trace.size(); ++t)
                CHECK(fit.trace[t] >= fit.trace[t - 1] - 1e-10 * std::abs(fit.trace[t - 1]));
        }
    }

    TEST_CASE("the best restart is returned and the result is deterministic") {
        const MoeParams truth = truth_k2_d1();
        const auto data = moesim::model::sample_moe(moesim::model::SoftmaxGate(), truth, 3, 2, 500);
        EmSettings settings;
        settings.init = moesim::fit::EmInit::kmeans_pp;
        settings.restarts = 3;
        const auto a = moesim::fit::fit_em(softmax, data.x, data.y, 2, settings, {nullptr, 3, 2});
        const auto b = moesim::fit::fit_em(softmax, data.x, data.y, 2, settings, {nullptr, 3, 2});
        CHECK(a.log_likelihood == b.log_likelihood);
        CHECK(a.params.gate_slope == b.params.gate_slope);
        CHECK(a.params.gate_bias(1) == 0.0);
        CHECK(a.params.gate_slope(1, 0) == 0.0);
        Eigen::MatrixXd resp;
        CHECK(moesim::fit::e_step(softmax, data.x, data.y, a.params, resp) ==
              doctest::Approx(a.log_likelihood).epsilon(1e-14));
    }

    TEST_CASE("parameters are recovered at large n within a tolerance of order 1/sqrt(n)") {
        const Eigen::Index n = 20000;
        const double tolerance = 10.0 / std::sqrt(static_cast<double>(n)); // ~ 5 standard errors
        EmSettings settings;
        settings.tolerance = 1e-10;
        settings.init_noise = 0.5;
        SUBCASE("d = 1") {
            const MoeParams truth = truth_k2_d1();
            const auto data =
                moesim::model::sample_moe(moesim::model::SoftmaxGate(), truth, 21, 0, n);
            const auto fit =
                moesim::fit::fit_em(softmax, data.x, data.y, 2, settings, {&truth, 21, 0});
            CHECK(fit.converged);
            const MoeParams want = truth.last_gate_zero();
            CHECK((fit.params.gate_slope - want.gate_slope).cwiseAbs().maxCoeff() < tolerance);
            CHECK((fit.params.gate_bias - want.gate_bias).cwiseAbs().maxCoeff() < tolerance);
            CHECK((fit.params.expert_slope - want.expert_slope).cwiseAbs().maxCoeff() < tolerance);
            CHECK((fit.params.expert_bias - want.expert_bias).cwiseAbs().maxCoeff() < tolerance);
            CHECK((fit.params.variance - want.variance).cwiseAbs().maxCoeff() < tolerance);
        }
        SUBCASE("d = 2, k = 3, from k-means++ (matched up to relabelling)") {
            const MoeParams truth = truth_k3_d2();
            const auto data =
                moesim::model::sample_moe(moesim::model::SoftmaxGate(), truth, 22, 0, n);
            settings.init = moesim::fit::EmInit::kmeans_pp;
            settings.restarts = 3;
            const auto fit =
                moesim::fit::fit_em(softmax, data.x, data.y, 3, settings, {nullptr, 22, 0});
            // Match fitted experts to true ones by expert parameters, then fix the gate gauge
            // of the matched order.
            std::vector<Eigen::Index> order{0, 1, 2};
            double best = 1e300;
            std::vector<Eigen::Index> best_order = order;
            do {
                double cost = 0;
                for (Eigen::Index i = 0; i < 3; ++i)
                    cost += (fit.params.expert_slope.row(order[std::size_t(i)]) -
                             truth.expert_slope.row(i))
                                .squaredNorm();
                if (cost < best) {
                    best = cost;
                    best_order = order;
                }
            } while (std::next_permutation(order.begin(), order.end()));
            const MoeParams got = fit.params.permuted(best_order).last_gate_zero();
            const MoeParams want = truth.last_gate_zero();
            CHECK((got.gate_slope - want.gate_slope).cwiseAbs().maxCoeff() < tolerance);
            CHECK((got.gate_bias - want.gate_bias).cwiseAbs().maxCoeff() < tolerance);
            CHECK((got.expert_slope - want.expert_slope).cwiseAbs().maxCoeff() < tolerance);
            CHECK((got.expert_bias - want.expert_bias).cwiseAbs().maxCoeff() < tolerance);
            CHECK((got.variance - want.variance).cwiseAbs().maxCoeff() < tolerance);
        }
    }
}

namespace {

// Three experts, top-2 gate on d = 1: the selected pair changes with x.
MoeParams truth_topk() {
    MoeParams p = MoeParams::zeros(3, 1);
    p.gate_slope << 2.0, 0.0, -2.0;
    p.gate_bias << 0.0, 0.5, 0.0;
    p.expert_slope << 1.0, 0.0, -1.0;
    p.expert_bias << 1.0, -1.0, 0.5;
    p.variance << 0.2, 0.25, 0.2;
    return p;
}

const moesim::model::TopKGate top2(2);

} // namespace

TEST_SUITE("fit::em top-K") {
    TEST_CASE("with the top-K sets fixed, the gate gradient and Hessian match finite differences") {
        const MoeParams truth = truth_topk();
        const auto data = moesim::model::sample_moe(top2, truth, 6, 0, 300);
        MoeParams at = truth;
        at.gate_slope << 1.5, 0.3, 0.0;
        at.gate_bias << -0.2, 0.4, 0.0;
        at.gate_slope.row(2) << -1.7;
        at = at.last_gate_zero();
        Eigen::MatrixXd resp;
        moesim::fit::e_step(top2, data.x, data.y, at, resp);
        CHECK((resp.array() == 0.0).count() == 300); // one expert off per sample
        const auto q = moesim::fit::gate_objective(top2, data.x, resp, at);
        const Eigen::VectorXd theta = moesim::fit::pack_gate(at);
        const double h = 1e-6;
        for (Eigen::Index p = 0; p < theta.size(); ++p) {
            MoeParams plus = at, minus = at;
            Eigen::VectorXd tp = theta, tm = theta;
            tp(p) += h;
            tm(p) -= h;
            moesim::fit::unpack_gate(tp, plus);
            moesim::fit::unpack_gate(tm, minus);
            const auto qp = moesim::fit::gate_objective(top2, data.x, resp, plus);
            const auto qm = moesim::fit::gate_objective(top2, data.x, resp, minus);
            REQUIRE(std::isfinite(qp.value)); // h too small to change any sample's top-2 set
            REQUIRE(std::isfinite(qm.value));
            CHECK(q.gradient(p) == doctest::Approx((qp.value - qm.value) / (2 * h)).epsilon(1e-5));
            const Eigen::VectorXd fd_col = (qp.gradient - qm.gradient) / (2 * h);
            CHECK((q.hessian.col(p) - fd_col).norm() <= 1e-5 * (1.0 + fd_col.norm()));
        }
    }

    TEST_CASE("generalised EM never decreases the top-K log-likelihood") {
        const MoeParams truth = truth_topk();
        const auto data = moesim::model::sample_moe(top2, truth, 7, 0, 2000);
        EmSettings settings;
        settings.tolerance = 1e-12;
        settings.max_iterations = 40;
        SUBCASE("k-means++ init, exact fit") {
            settings.init = moesim::fit::EmInit::kmeans_pp;
            const auto fit =
                moesim::fit::fit_em(top2, data.x, data.y, 3, settings, {nullptr, 7, 0});
            for (std::size_t t = 1; t < fit.trace.size(); ++t)
                CHECK(fit.trace[t] >= fit.trace[t - 1] - 1e-10 * std::abs(fit.trace[t - 1]));
            CHECK(fit.trace.back() > fit.trace.front());
        }
        SUBCASE("near-truth init, over-specified (4 experts for 3)") {
            settings.init_noise = 0.3;
            const auto fit = moesim::fit::fit_em(top2, data.x, data.y, 4, settings, {&truth, 7, 0});
            for (std::size_t t = 1; t < fit.trace.size(); ++t)
                CHECK(fit.trace[t] >= fit.trace[t - 1] - 1e-10 * std::abs(fit.trace[t - 1]));
        }
    }

    TEST_CASE("top-K parameters are recovered at large n within a multiple of 1/sqrt(n)") {
        const Eigen::Index n = 20000;
        // Gate parameters are identified through the top-K boundaries and vary more between
        // samples than the experts' (gate slope errors 0.03-0.12 over three seeds).
        const double expert_tolerance = 10.0 / std::sqrt(static_cast<double>(n));
        const double gate_tolerance = 25.0 / std::sqrt(static_cast<double>(n));
        const MoeParams truth = truth_topk();
        const auto data = moesim::model::sample_moe(top2, truth, 23, 0, n);
        EmSettings settings;
        settings.tolerance = 1e-10;
        settings.init_noise = 0.2;
        const auto fit = moesim::fit::fit_em(top2, data.x, data.y, 3, settings, {&truth, 23, 0});
        CHECK(fit.converged);
        // At least as likely as the truth: the fit is a maximiser, not a stall.
        Eigen::MatrixXd resp;
        CHECK(fit.log_likelihood >=
              moesim::fit::e_step(top2, data.x, data.y, truth.last_gate_zero(), resp));
        const MoeParams want = truth.last_gate_zero();
        CHECK((fit.params.gate_slope - want.gate_slope).cwiseAbs().maxCoeff() < gate_tolerance);
        CHECK((fit.params.gate_bias - want.gate_bias).cwiseAbs().maxCoeff() < gate_tolerance);
        CHECK((fit.params.expert_slope - want.expert_slope).cwiseAbs().maxCoeff() <
              expert_tolerance);
        CHECK((fit.params.expert_bias - want.expert_bias).cwiseAbs().maxCoeff() < expert_tolerance);
        CHECK((fit.params.variance - want.variance).cwiseAbs().maxCoeff() < expert_tolerance);
    }
}
