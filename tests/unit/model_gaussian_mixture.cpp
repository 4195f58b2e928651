#include "moesim/model/gaussian_mixture.hpp"

#include "moesim/core/error.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>

using moesim::model::MixtureGeometry;

namespace {

Eigen::VectorXd values(std::initializer_list<double> list) {
    Eigen::VectorXd v(static_cast<Eigen::Index>(list.size()));
    Eigen::Index i = 0;
    for (double x : list)
        v(i++) = x;
    return v;
}

} // namespace

TEST_SUITE("model::gaussian_mixture") {
    TEST_CASE("simplex means are centred, equidistant from 0 and from each other, at the SNR") {
        for (Eigen::Index k = 2; k <= 6; ++k)
            for (Eigen::Index d : {k - 1, k + 2}) {
                CAPTURE(k);
                CAPTURE(d);
                const double snr = 2.5, sigma = 0.7;
                const Eigen::MatrixXd mu =
                    moesim::model::mixture_means(MixtureGeometry::simplex, k, d, snr, sigma);
                REQUIRE(mu.rows() == k);
                REQUIRE(mu.cols() == d);
                CHECK(mu.colwise().sum().norm() <= 1e-14);
                const double r2 = snr * sigma * sigma;
                // Regular simplex: |mu_i - mu_j|^2 = 2 r^2 k / (k - 1) for i != j.
                for (Eigen::Index i = 0; i < k; ++i) {
                    CHECK(mu.row(i).squaredNorm() == doctest::Approx(r2).epsilon(1e-14));
                    for (Eigen::Index j = 0; j < i; ++j)
                        CHECK((mu.row(i) - mu.row(j)).squaredNorm() ==
                              doctest::Approx(2.0 * r2 * double(k) / double(k - 1)).epsilon(1e-13));
                }
                CHECK(mu.rightCols(d - (k - 1)).norm() == 0.0);
                CHECK(moesim::model::geometric_snr(mu, sigma) ==
                      doctest::Approx(snr).epsilon(1e-14));
            }
    }

    TEST_CASE("symmetric means are +-mu along e1 with |mu|^2 = SNR sigma^2, the 2-vertex simplex") {
        const Eigen::MatrixXd mu =
            moesim::model::mixture_means(MixtureGeometry::symmetric, 2, 3, 4.0, 0.5);
        CHECK(mu(0, 0) == doctest::Approx(1.0));
        CHECK(mu.row(1) == -mu.row(0));
        CHECK(mu.rightCols(2).norm() == 0.0);
        const Eigen::MatrixXd simplex =
            moesim::model::mixture_means(MixtureGeometry::simplex, 2, 3, 4.0, 0.5);
        CHECK((simplex - mu).norm() <= 1e-15);
    }

    TEST_CASE("custom means are scaled about their centroid to the SNR") {
        Eigen::MatrixXd shape(3, 2);
        shape << 1.0, 1.0, 2.0, 1.0, 1.0, 3.0;
        const Eigen::MatrixXd mu =
            moesim::model::mixture_means(MixtureGeometry::custom, 3, 2, 9.0, 1.0, shape);
        CHECK((mu.colwise().mean() - shape.colwise().mean()).norm() <= 1e-14);
        CHECK(moesim::model::geometric_snr(mu, 1.0) == doctest::Approx(9.0).epsilon(1e-14));
        // The same shape: deviations proportional.
        const Eigen::MatrixXd a = mu.rowwise() - mu.colwise().mean();
        const Eigen::MatrixXd b = shape.rowwise() - shape.colwise().mean();
        CHECK((a - (a.norm() / b.norm()) * b).norm() <= 1e-13);
    }

    TEST_CASE("geometries that cannot give the means are reported with the reason") {
        using moesim::model::mixture_means_problem;
        CHECK_FALSE(mixture_means_problem(MixtureGeometry::simplex, 4, 3, 1.0).has_value());
        CHECK(mixture_means_problem(MixtureGeometry::simplex, 4, 2, 1.0)->find("dimension >= 3") !=
              std::string::npos);
        CHECK(mixture_means_problem(MixtureGeometry::symmetric, 3, 2, 1.0)->find("2 components") !=
              std::string::npos);
        CHECK(mixture_means_problem(MixtureGeometry::symmetric, 2, 2, -1.0)->find("SNR") !=
              std::string::npos);
        CHECK(mixture_means_problem(MixtureGeometry::custom, 2, 2, 1.0, Eigen::MatrixXd::Zero(3, 2))
                  ->find("3 x 2") != std::string::npos);
        CHECK(mixture_means_problem(MixtureGeometry::custom, 2, 2, 1.0, Eigen::MatrixXd::Ones(2, 2))
                  ->find("coincide") != std::string::npos);
        CHECK_FALSE(
            mixture_means_problem(MixtureGeometry::custom, 2, 2, 0.0, Eigen::MatrixXd::Ones(2, 2))
                .has_value());
        CHECK_THROWS_AS(moesim::model::mixture_means(MixtureGeometry::simplex, 4, 2, 1.0, 1.0),
                        moesim::core::InternalError);
        CHECK(moesim::model::parse_mixture_geometry("simplex") == MixtureGeometry::simplex);
        CHECK_THROWS_AS(moesim::model::parse_mixture_geometry("cube"), moesim::core::InternalError);
    }

    TEST_CASE("samples are a pure function of (seed, job, id) with the mixture's moments") {
        moesim::model::GaussianMixture mix;
        mix.means = moesim::model::mixture_means(MixtureGeometry::simplex, 3, 4, 3.0, 1.5);
        mix.weights = values({0.2, 0.3, 0.5});
        mix.sigma = 1.5;
        const Eigen::Index n = 60000;
        const auto sample = moesim::model::sample_mixture(mix, 9, 4, n);
        const auto prefix = moesim::model::sample_mixture(mix, 9, 4, 100);
        CHECK(prefix.x == sample.x.topRows(100));
        CHECK(std::equal(prefix.labels.begin(), prefix.labels.end(), sample.labels.begin()));
        CHECK(moesim::model::sample_mixture(mix, 9, 5, 100).x != prefix.x);
        CHECK(moesim::model::sample_mixture(mix, 10, 4, 100).x != prefix.x);
        for (Eigen::Index c = 0; c < 3; ++c) {
            Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(4);
            double count = 0.0, squares = 0.0;
            for (Eigen::Index m = 0; m < n; ++m)
                if (sample.labels[std::size_t(m)] == c) {
                    sum += sample.x.row(m);
                    squares += (sample.x.row(m) - mix.means.row(c)).squaredNorm();
                    count += 1.0;
                }
            // Frequencies, means and variances within 5 standard errors.
            const double p = mix.weights(c);
            CHECK(std::abs(count / double(n) - p) <= 5.0 * std::sqrt(p * (1 - p) / double(n)));
            CHECK((sum / count - mix.means.row(c)).cwiseAbs().maxCoeff() <=
                  5.0 * mix.sigma / std::sqrt(count));
            const double var = squares / (4.0 * count);
            CHECK(std::abs(var / (mix.sigma * mix.sigma) - 1.0) <=
                  5.0 * std::sqrt(2.0 / (4.0 * count)));
        }
    }
}
