#include "moesim/fit/kmeans.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using moesim::fit::LloydSettings;

namespace {

// n rows of p coordinates around k well-spread centres, from Philox (seed, "test.kmeans").
Eigen::MatrixXd clustered_points(Eigen::Index n, Eigen::Index p, Eigen::Index k,
                                 std::uint32_t job) {
    const moesim::core::Philox rng(7, "test.kmeans");
    Eigen::MatrixXd x(n, p);
    for (Eigen::Index m = 0; m < n; ++m) {
        const auto c = static_cast<Eigen::Index>(
            rng.uniform_pair(static_cast<std::uint64_t>(m), job, 0)[0] * double(k));
        for (Eigen::Index j = 0; j < p; ++j)
            x(m, j) = 3.0 * std::cos(double(c * (j + 1))) +
                      rng.normal_pair(static_cast<std::uint64_t>(m), job, 1 + std::uint32_t(j))[0];
    }
    return x;
}

moesim::fit::UniformDraw draws(std::uint32_t restart) {
    const moesim::core::Philox rng(11, "test.kmeans.init");
    return [rng, restart](std::uint32_t draw) { return rng.uniform_pair(3, restart, draw)[0]; };
}

// The k-means++ seeding and 20 Lloyd iterations as fit::initial_params wrote them before
// kmeans.hpp existed (row by row, Eigen's row-wise squaredNorm and minCoeff).
struct Reference {
    Eigen::MatrixXd centres;
    std::vector<Eigen::Index> labels;
};
Reference reference_kmeans(const Eigen::MatrixXd& points, Eigen::Index k,
                           const moesim::fit::UniformDraw& uniform) {
    const Eigen::Index n = points.rows();
    Eigen::MatrixXd centers(k, points.cols());
    auto pick = [&](const Eigen::VectorXd& weights, double u) {
        const double target = u * weights.sum();
        double cumulative = 0.0;
        for (Eigen::Index m = 0; m < n; ++m) {
            cumulative += weights(m);
            if (target < cumulative)
                return m;
        }
        return n - 1;
    };
    centers.row(0) = points.row(pick(Eigen::VectorXd::Ones(n), uniform(0)));
    Eigen::VectorXd dist2 = (points.rowwise() - centers.row(0)).rowwise().squaredNorm();
    for (Eigen::Index c = 1; c < k; ++c) {
        centers.row(c) = points.row(pick(dist2, uniform(static_cast<std::uint32_t>(c))));
        dist2 = dist2.cwiseMin((points.rowwise() - centers.row(c)).rowwise().squaredNorm());
    }
    std::vector<Eigen::Index> label(static_cast<std::size_t>(n), 0);
    for (int lloyd = 0; lloyd < 20; ++lloyd) {
        for (Eigen::Index m = 0; m < n; ++m) {
            Eigen::Index best = 0;
            (centers.rowwise() - points.row(m)).rowwise().squaredNorm().minCoeff(&best);
            label[static_cast<std::size_t>(m)] = best;
        }
        Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, points.cols());
        Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
        for (Eigen::Index m = 0; m < n; ++m) {
            sums.row(label[static_cast<std::size_t>(m)]) += points.row(m);
            counts(label[static_cast<std::size_t>(m)]) += 1.0;
        }
        for (Eigen::Index c = 0; c < k; ++c)
            if (counts(c) > 0)
                centers.row(c) = sums.row(c) / counts(c);
    }
    return {centers, label};
}

std::vector<Eigen::Index> widen(const std::vector<moesim::fit::ClusterLabel>& labels) {
    return {labels.begin(), labels.end()};
}

bool bitwise_equal(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::equal(a.data(), a.data() + a.size(), b.data());
}

template <class Label>
double objective(const Eigen::MatrixXd& x, const Eigen::MatrixXd& centres,
                 const std::vector<Label>& labels) {
    double total = 0.0;
    for (Eigen::Index m = 0; m < x.rows(); ++m)
        total += (x.row(m) - centres.row(labels[static_cast<std::size_t>(m)])).squaredNorm();
    return total;
}

} // namespace

TEST_SUITE("fit::kmeans") {
    TEST_CASE("seeding and 20 Lloyd iterations reproduce the former row-wise code bit for bit") {
        // Sizes around the block (256 rows), odd widths, and k below and above the vector width.
        for (const auto [n, p, k] : {std::array<Eigen::Index, 3>{40, 1, 2},
                                     {300, 2, 3},
                                     {513, 5, 4},
                                     {1000, 3, 9},
                                     {257, 17, 12}}) {
            CAPTURE(n);
            CAPTURE(p);
            CAPTURE(k);
            const Eigen::MatrixXd x = clustered_points(n, p, k, static_cast<std::uint32_t>(n));
            for (std::uint32_t restart = 0; restart < 3; ++restart) {
                const Reference ref = reference_kmeans(x, k, draws(restart));
                const Eigen::MatrixXd seeds = moesim::fit::kmeans_pp_seeds(x, k, draws(restart));
                const auto fit = moesim::fit::lloyd(
                    x, seeds, {.max_iterations = 20, .tolerance = 0.0, .row_order_sums = true});
                CHECK(bitwise_equal(fit.centres, ref.centres));
                CHECK(widen(fit.labels) == ref.labels);
                CHECK(fit.iterations <= 20);
                // Blocked sums round differently, but only in the last bits.
                const auto blocked = moesim::fit::lloyd(x, seeds, {.max_iterations = 20});
                CHECK(widen(blocked.labels) == ref.labels);
                CHECK((blocked.centres - ref.centres).cwiseAbs().maxCoeff() <=
                      1e-12 * (1.0 + ref.centres.cwiseAbs().maxCoeff()));
            }
        }
    }

    TEST_CASE("k-means++ seeds are distinct data rows and a pure function of the draws") {
        const Eigen::MatrixXd x = clustered_points(200, 3, 4, 1);
        const Eigen::MatrixXd a = moesim::fit::kmeans_pp_seeds(x, 4, draws(0));
        CHECK(bitwise_equal(a, moesim::fit::kmeans_pp_seeds(x, 4, draws(0))));
        CHECK_FALSE(bitwise_equal(a, moesim::fit::kmeans_pp_seeds(x, 4, draws(1))));
        for (Eigen::Index c = 0; c < 4; ++c) {
            bool is_row = false;
            for (Eigen::Index m = 0; m < x.rows(); ++m)
                is_row = is_row || bitwise_equal(x.row(m), a.row(c));
            CHECK(is_row);
            for (Eigen::Index other = 0; other < c; ++other)
                CHECK(a.row(c) != a.row(other));
        }
        // A centre is never drawn at a point it already covers (zero weight).
        const Eigen::MatrixXd two = (Eigen::MatrixXd(4, 1) << 0.0, 0.0, 0.0, 5.0).finished();
        for (std::uint32_t restart = 0; restart < 20; ++restart) {
            const Eigen::MatrixXd s = moesim::fit::kmeans_pp_seeds(two, 2, draws(restart));
            CHECK(s(0, 0) != s(1, 0));
        }
    }

    TEST_CASE("Lloyd's objective never rises and a converged result is an exact fixed point") {
        const Eigen::MatrixXd x = clustered_points(2000, 4, 5, 2);
        for (std::uint32_t restart = 0; restart < 4; ++restart) {
            const auto fit =
                moesim::fit::lloyd(x, moesim::fit::kmeans_pp_seeds(x, 5, draws(restart)),
                                   {.max_iterations = 500, .tolerance = 0.0});
            REQUIRE(fit.converged);
            REQUIRE(fit.objective_trace.size() == static_cast<std::size_t>(fit.iterations));
            for (std::size_t t = 1; t < fit.objective_trace.size(); ++t)
                CHECK(fit.objective_trace[t] <= fit.objective_trace[t - 1] * (1.0 + 1e-14));
            // Labels are the nearest centres, centres the means of their labels.
            CHECK(moesim::fit::nearest_centres(x, fit.centres) == fit.labels);
            for (Eigen::Index c = 0; c < 5; ++c) {
                Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(4);
                double count = 0.0;
                for (Eigen::Index m = 0; m < x.rows(); ++m)
                    if (fit.labels[static_cast<std::size_t>(m)] == c) {
                        sum += x.row(m);
                        count += 1.0;
                    }
                REQUIRE(count > 0.0);
                CHECK((sum / count - fit.centres.row(c)).norm() <= 1e-12 * (1.0 + sum.norm()));
            }
            CHECK(fit.objective ==
                  doctest::Approx(objective(x, fit.centres, fit.labels)).epsilon(1e-12));
        }
    }

    TEST_CASE("on tiny data the best of several Lloyd runs is the brute-force optimum") {
        // Every labelling of 8 points into k clusters (k^8 of them): the optimum of the k-means
        // objective, which Lloyd can only approach from above.
        for (const Eigen::Index k : {2, 3}) {
            for (std::uint32_t job = 0; job < 5; ++job) {
                const Eigen::MatrixXd x = clustered_points(8, 2, k, 100 + job);
                const Eigen::Index n = x.rows();
                Eigen::Index total = 1;
                for (Eigen::Index i = 0; i < n; ++i)
                    total *= k;
                double optimum = std::numeric_limits<double>::infinity();
                std::vector<Eigen::Index> labels(static_cast<std::size_t>(n));
                for (Eigen::Index code = 0; code < total; ++code) {
                    Eigen::Index rest = code;
                    for (auto& l : labels) {
                        l = rest % k;
                        rest /= k;
                    }
                    Eigen::MatrixXd centres = Eigen::MatrixXd::Zero(k, 2);
                    Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
                    for (Eigen::Index m = 0; m < n; ++m) {
                        centres.row(labels[std::size_t(m)]) += x.row(m);
                        counts(labels[std::size_t(m)]) += 1.0;
                    }
                    for (Eigen::Index c = 0; c < k; ++c)
                        if (counts(c) > 0)
                            centres.row(c) /= counts(c);
                    optimum = std::min(optimum, objective(x, centres, labels));
                }
                double best = std::numeric_limits<double>::infinity();
                for (std::uint32_t restart = 0; restart < 30; ++restart) {
                    const auto fit = moesim::fit::lloyd(
                        x, moesim::fit::kmeans_pp_seeds(x, k, draws(restart)), LloydSettings{});
                    CHECK(fit.converged);
                    CHECK(fit.objective >= optimum * (1.0 - 1e-12));
                    best = std::min(best, fit.objective);
                }
                CHECK(best == doctest::Approx(optimum).epsilon(1e-12));
            }
        }
    }

    TEST_CASE("Lloyd stops at max_iterations, or on a centre shift within tolerance") {
        const Eigen::MatrixXd x = clustered_points(3000, 2, 4, 3);
        const Eigen::MatrixXd seeds = moesim::fit::kmeans_pp_seeds(x, 4, draws(0));
        const auto full = moesim::fit::lloyd(x, seeds, {.max_iterations = 1000, .tolerance = 0.0});
        REQUIRE(full.converged);
        REQUIRE(full.iterations > 3);
        const auto capped = moesim::fit::lloyd(x, seeds, {.max_iterations = 2, .tolerance = 0.0});
        CHECK(capped.iterations == 2);
        CHECK_FALSE(capped.converged);
        const auto loose = moesim::fit::lloyd(x, seeds, {.max_iterations = 1000, .tolerance = 1e6});
        CHECK(loose.iterations == 1);
        CHECK(loose.converged);
        // A modest tolerance stops before exact stillness, near the exact fixed point.
        const auto tol = moesim::fit::lloyd(x, seeds, {.max_iterations = 1000, .tolerance = 1e-4});
        CHECK(tol.converged);
        CHECK(tol.iterations <= full.iterations);
        CHECK((tol.centres - full.centres).norm() < 0.05);
    }

    TEST_CASE("a centre that attracts no rows stays where it is") {
        Eigen::MatrixXd x(6, 1);
        x << -1.0, -1.1, -0.9, 1.0, 1.1, 0.9;
        Eigen::MatrixXd centres(3, 1);
        centres << -1.0, 1.0, 100.0;
        const auto fit = moesim::fit::lloyd(x, centres, LloydSettings{});
        CHECK(fit.converged);
        CHECK(fit.centres(2, 0) == 100.0);
        CHECK(fit.centres(0, 0) == doctest::Approx(-1.0));
        CHECK(fit.centres(1, 0) == doctest::Approx(1.0));
    }

    TEST_CASE("bad shapes are internal errors") {
        const Eigen::MatrixXd x = clustered_points(5, 2, 2, 4);
        CHECK_THROWS_AS(moesim::fit::kmeans_pp_seeds(x, 6, draws(0)), moesim::core::InternalError);
        CHECK_THROWS_AS(moesim::fit::lloyd(x, Eigen::MatrixXd::Zero(2, 3), LloydSettings{}),
                        moesim::core::InternalError);
        CHECK_THROWS_AS(moesim::fit::lloyd(x, Eigen::MatrixXd::Zero(2, 2), {.max_iterations = 0}),
                        moesim::core::InternalError);
    }
}
