// The Kozachenko-Leonenko entropy estimate against the closed-form entropy of Gaussian clouds,
// within the estimator's bias at that N, D and k (measured by python/knn_entropy_bias.py, an
// independent numpy/scipy implementation), and the two neighbour searches against each other.
#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/model/knn_entropy.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>

using namespace moesim;
using model::RowMatrix;

namespace {

// N x D draws of N(0, sd^2 I), replicate `replicate` of stream "test.knn".
RowMatrix gaussian_cloud(Eigen::Index n, Eigen::Index dim, double sd, std::uint32_t replicate) {
    const core::Philox rng(17, "test.knn");
    RowMatrix cloud(n, dim);
    for (Eigen::Index i = 0; i < n; ++i)
        rng.fill_normal(static_cast<std::uint64_t>(i), replicate,
                        std::span<double>(cloud.row(i).data(), static_cast<std::size_t>(dim)));
    return cloud * sd;
}

double gaussian_entropy(Eigen::Index dim, double sd) {
    return 0.5 * static_cast<double>(dim) *
           std::log(2 * std::numbers::pi * std::numbers::e * sd * sd);
}

struct Case {
    Eigen::Index n, dim;
    int k;
    model::NeighbourSearch search;
    double bias, bias_error, sd; // E[H_hat] - H, its Monte Carlo error, sd of one estimate
};

} // namespace

TEST_SUITE("model::knn_entropy") {
    TEST_CASE("Gaussian clouds: the estimate is the closed form plus the known bias") {
        using model::NeighbourSearch;
        // Biases from python/knn_entropy_bias.py (2000, 2000 and 1000 clouds).
        const Case cases[] = {
            {4000, 2, 1, NeighbourSearch::kd_tree, -0.0015, 0.0006, 0.0287},
            {2000, 4, 3, NeighbourSearch::automatic, -0.0511, 0.0008, 0.0358},
            {1000, 16, 1, NeighbourSearch::brute_force, +0.4521, 0.0033, 0.1043},
        };
        const double sd = 0.5;
        const int replicates = 12;
        for (const Case& c : cases) {
            double mean = 0;
            for (int r = 0; r < replicates; ++r)
                mean += model::knn_entropy(gaussian_cloud(c.n, c.dim, sd, std::uint32_t(r)),
                                           {.k = c.k, .search = c.search}) /
                        replicates;
            const double truth = gaussian_entropy(c.dim, sd);
            const double tolerance =
                4 * std::sqrt(c.sd * c.sd / replicates + c.bias_error * c.bias_error);
            CAPTURE(c.dim);
            CAPTURE(truth);
            CAPTURE(mean);
            CHECK(std::abs(mean - truth - c.bias) < tolerance);
        }
    }

    TEST_CASE("at D = 16 and N = 1000 the bias is real: the estimate sits well above H") {
        double mean = 0;
        for (int r = 0; r < 8; ++r)
            mean += model::knn_entropy(gaussian_cloud(1000, 16, 1.0, std::uint32_t(r))) / 8;
        CHECK(mean - gaussian_entropy(16, 1.0) > 0.3);
    }

    TEST_CASE("kd-tree and blocked GEMM searches give the same estimate") {
        for (int k : {1, 4}) {
            const RowMatrix cloud = gaussian_cloud(700, 6, 1.3, 99);
            const double tree =
                model::knn_entropy(cloud, {.k = k, .search = model::NeighbourSearch::kd_tree});
            const double gemm =
                model::knn_entropy(cloud, {.k = k, .search = model::NeighbourSearch::brute_force});
            CAPTURE(k);
            CHECK(tree == doctest::Approx(gemm).epsilon(1e-13));
        }
    }

    TEST_CASE("scaling by a adds D log a, translation changes nothing") {
        const RowMatrix cloud = gaussian_cloud(500, 3, 1.0, 5);
        const double base = model::knn_entropy(cloud);
        CHECK(model::knn_entropy(cloud * 2.0) ==
              doctest::Approx(base + 3 * std::log(2.0)).epsilon(1e-12));
        const RowMatrix shifted = cloud.array() + 100.0;
        CHECK(model::knn_entropy(shifted) == doctest::Approx(base).epsilon(1e-9));
        const RowMatrix wide = gaussian_cloud(300, 40, 1.0, 6);
        CHECK(model::knn_entropy(RowMatrix(wide.array() + 100.0)) ==
              doctest::Approx(model::knn_entropy(wide)).epsilon(1e-9));
    }

    TEST_CASE("the offset is psi(N) - psi(k) + log V_D") {
        CHECK(model::knn_entropy_offset(1, 1, 1) == doctest::Approx(std::log(2.0)));
        CHECK(model::knn_entropy_offset(2, 1, 2) ==
              doctest::Approx(1.0 + std::log(std::numbers::pi)));
        // psi(10) - psi(1) = H_9; V_3 = 4 pi / 3.
        CHECK(model::knn_entropy_offset(10, 1, 3) ==
              doctest::Approx(7129.0 / 2520.0 + std::log(4 * std::numbers::pi / 3)).epsilon(1e-14));
        CHECK(model::knn_entropy_offset(100000, 3, 3) ==
              doctest::Approx(std::log(100000.0) - 0.5e-5 - (1.5 - std::numbers::egamma) +
                              std::log(4 * std::numbers::pi / 3))
                  .epsilon(1e-9));
    }

    TEST_CASE("coincident points give -inf, and k must be below N") {
        RowMatrix cloud = gaussian_cloud(10, 2, 1.0, 1);
        cloud.row(3) = cloud.row(7);
        CHECK(model::knn_entropy(cloud, {.search = model::NeighbourSearch::kd_tree}) ==
              -std::numeric_limits<double>::infinity());
        CHECK(model::knn_entropy(cloud, {.search = model::NeighbourSearch::brute_force}) ==
              -std::numeric_limits<double>::infinity());
        CHECK_THROWS_AS(model::knn_entropy(cloud, {.k = 10}), core::InternalError);
        CHECK_THROWS_AS(model::knn_entropy(cloud, {.k = 0}), core::InternalError);
    }
}
