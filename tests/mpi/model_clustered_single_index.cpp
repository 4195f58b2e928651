#include "testing.hpp"

#include "moesim/model/clustered_single_index.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace moesim;
using model::RowMatrix;

TEST_SUITE("model::ClusteredSingleIndex") {
    TEST_CASE("normalised Hermite polynomials match He_k / sqrt(k!) written out") {
        for (double z : {-2.5, -0.3, 0.0, 0.7, 3.1}) {
            CHECK(model::normalized_hermite(0, z) == 1.0);
            CHECK(model::normalized_hermite(1, z) == z);
            CHECK(model::normalized_hermite(2, z) == doctest::Approx((z * z - 1) / std::sqrt(2.0)));
            CHECK(model::normalized_hermite(3, z) ==
                  doctest::Approx((z * z * z - 3 * z) / std::sqrt(6.0)));
            CHECK(model::normalized_hermite(4, z) ==
                  doctest::Approx((z * z * z * z - 6 * z * z + 3) / std::sqrt(24.0)));
        }
    }

    TEST_CASE("cluster means and teacher directions are orthonormal") {
        const model::ClusteredSingleIndex data(3, {.dim = 7,
                                                   .clusters = 3,
                                                   .rho = 1.0,
                                                   .coefficients = {1, 0, 1, 0, 1, 0},
                                                   .shared_direction = false});
        RowMatrix all(6, 7);
        all << data.mean_directions(), data.directions();
        const Eigen::MatrixXd gram = all * all.transpose();
        CHECK((gram - Eigen::MatrixXd::Identity(6, 6)).cwiseAbs().maxCoeff() < 1e-14);
        const model::ClusteredSingleIndex shared(
            3, {.dim = 4, .clusters = 3, .coefficients = {0, 1, 0, -1, 1, 0}});
        CHECK(shared.directions().row(0) == shared.directions().row(2));
        CHECK(std::abs(shared.directions().row(0).dot(shared.mean_directions().row(1))) < 1e-14);
    }

    TEST_CASE("a sample is the same whichever range it is generated in") {
        const model::ClusteredSingleIndex data(11, {.dim = 5});
        RowMatrix x_all, x_part;
        Eigen::VectorXd y_all, y_part;
        std::vector<int> c_all, c_part;
        data.sample("train", 100, 40, x_all, y_all, c_all);
        data.sample("train", 117, 9, x_part, y_part, c_part);
        CHECK(std::memcmp(x_part.data(), x_all.row(17).data(), 9 * 5 * sizeof(double)) == 0);
        CHECK(std::memcmp(y_part.data(), y_all.data() + 17, 9 * sizeof(double)) == 0);
        CHECK(std::vector<int>(c_all.begin() + 17, c_all.begin() + 26) == c_part);
        data.sample("test", 117, 9, x_part, y_part, c_part);
        CHECK(x_part.row(0) != x_all.row(17));
    }

    TEST_CASE("statistics match the closed forms: frequencies, means, label moments") {
        // Each rank draws its share of the samples; sums are deterministic over blocks.
        const auto& comm = testing::world();
        const int clusters = 2, orders = 3;
        const std::vector<double> a = {0.5, 1.0, 0.0, 0.0, -1.0, 0.7};
        const double rho = 1.5, noise = 0.3;
        const model::ClusteredSingleIndex data(21, {.dim = 6,
                                                    .clusters = clusters,
                                                    .rho = rho,
                                                    .coefficients = a,
                                                    .shared_direction = false,
                                                    .label_noise = noise});
        const std::uint64_t n = 200000;
        const par::BlockPartition samples(n, 4096, comm.size());
        const par::IdRange mine = samples.items_of(comm.rank());
        RowMatrix x;
        Eigen::VectorXd y;
        std::vector<int> c;
        data.sample("train", mine.begin, static_cast<Eigen::Index>(mine.size()), x, y, c);

        // Per cluster: count, <x, v_c>, y^2, and y h_k(<w_c, x>) for k = 1..3; each with
        // its square, for standard errors.
        const std::size_t per_cluster = 6, width = 2 * clusters * per_cluster;
        std::vector<double> rows(mine.size() * width, 0.0);
        for (std::size_t i = 0; i < mine.size(); ++i) {
            const int cl = c[i];
            const auto row = static_cast<Eigen::Index>(i);
            const double z = x.row(row).dot(data.directions().row(cl));
            const double values[per_cluster] = {1.0,
                                                x.row(row).dot(data.mean_directions().row(cl)),
                                                y(row) * y(row),
                                                y(row) * model::normalized_hermite(1, z),
                                                y(row) * model::normalized_hermite(2, z),
                                                y(row) * model::normalized_hermite(3, z)};
            double* out = rows.data() + i * width + static_cast<std::size_t>(cl) * 2 * per_cluster;
            for (std::size_t k = 0; k < per_cluster; ++k) {
                out[k] = values[k];
                out[per_cluster + k] = values[k] * values[k];
            }
        }
        const auto sums = par::deterministic_sum(comm, samples, rows, width);
        for (int cl = 0; cl < clusters; ++cl) {
            CAPTURE(cl);
            const double* s = sums.data() + static_cast<std::size_t>(cl) * 2 * per_cluster;
            const double count = s[0];
            // Frequency 1/C: binomial standard error sqrt(p(1-p)/n).
            CHECK(std::abs(count / n - 0.5) < 5 * std::sqrt(0.25 / n));
            const double* coef = a.data() + cl * orders;
            const double expected[per_cluster] = {
                1.0,
                rho,
                coef[0] * coef[0] + coef[1] * coef[1] + coef[2] * coef[2] + noise * noise,
                coef[0],
                coef[1],
                coef[2]};
            for (std::size_t k = 1; k < per_cluster; ++k) {
                const double mean = s[k] / count;
                const double var = s[per_cluster + k] / count - mean * mean;
                CAPTURE(k);
                CAPTURE(mean);
                CHECK(std::abs(mean - expected[k]) < 5 * std::sqrt(var / count));
            }
        }
    }
}
