#include "moesim/fit/isotropic_mixture_em.hpp"
#include "moesim/fit/kmeans.hpp"
#include "moesim/fit/label_matching.hpp"
#include "moesim/fit/misspec_theory.hpp"
#include "moesim/fit/population_em.hpp"
#include "moesim/model/gaussian_mixture.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>
#include <numbers>

using moesim::fit::PopulationSettings;
using moesim::model::GaussianMixture;
using moesim::model::MixtureGeometry;

namespace {

Eigen::VectorXd values(std::initializer_list<double> list) {
    Eigen::VectorXd v(static_cast<Eigen::Index>(list.size()));
    Eigen::Index i = 0;
    for (double x : list)
        v(i++) = x;
    return v;
}

GaussianMixture mixture(MixtureGeometry geometry, Eigen::Index k, Eigen::Index d, double snr,
                        double sigma = 1.0) {
    GaussianMixture mix;
    mix.sigma = sigma;
    mix.means = moesim::model::mixture_means(geometry, k, d, snr, sigma);
    mix.weights = moesim::model::uniform_weights(k);
    return mix;
}

// Largest coordinate error after matching estimates to a reference.
double matched_error(const Eigen::MatrixXd& estimate, const Eigen::MatrixXd& reference) {
    const auto match = moesim::fit::match_means(estimate, reference);
    double worst = 0.0;
    for (Eigen::Index c = 0; c < reference.rows(); ++c)
        worst =
            std::max(worst, (estimate.row(match.column_of_row[std::size_t(c)]) - reference.row(c))
                                .cwiseAbs()
                                .maxCoeff());
    return worst;
}

} // namespace

TEST_SUITE("fit::misspec_theory") {
    TEST_CASE("the collapse threshold follows the geometry and ignores where the means sit") {
        CHECK(moesim::fit::collapse_threshold_rho(mixture(MixtureGeometry::symmetric, 2, 3, 2.0)) ==
              doctest::Approx(std::sqrt(3.0)).epsilon(1e-14));
        for (Eigen::Index k = 2; k <= 5; ++k)
            CHECK(moesim::fit::collapse_threshold_rho(
                      mixture(MixtureGeometry::simplex, k, k, 3.0, 2.0)) ==
                  doctest::Approx(std::sqrt(1.0 + 3.0 / double(k - 1))).epsilon(1e-13));
        GaussianMixture shifted = mixture(MixtureGeometry::simplex, 3, 2, 3.0);
        const double centred = moesim::fit::collapse_threshold_rho(shifted);
        shifted.means.rowwise() += Eigen::RowVector2d(5.0, -2.0);
        CHECK(moesim::fit::collapse_threshold_rho(shifted) ==
              doctest::Approx(centred).epsilon(1e-12));
        // Unequal weights: the weighted spread 4 pi1 pi2 |mu|^2 of +-mu about the mixture mean.
        GaussianMixture uneven = mixture(MixtureGeometry::symmetric, 2, 1, 1.0);
        uneven.weights = values({0.2, 0.8});
        CHECK(moesim::fit::collapse_threshold_rho(uneven) ==
              doctest::Approx(std::sqrt(1.0 + 4 * 0.2 * 0.8)).epsilon(1e-14));
    }

    TEST_CASE(
        "hard assignment on +-mu matches the closed-form fixed point within standard errors") {
        for (const Eigen::Index d : {1, 2})
            for (const double mu : {0.5, 1.0, 2.0, 3.0}) {
                CAPTURE(d);
                CAPTURE(mu);
                const double sigma = 1.0;
                const GaussianMixture mix =
                    mixture(MixtureGeometry::symmetric, 2, d, mu * mu, sigma);
                const Eigen::Index n = d == 1 ? 1000000 : 400000;
                const auto sample =
                    moesim::model::sample_mixture(mix, 8, std::uint32_t(10 * mu), n);
                const auto fit = moesim::fit::lloyd(sample.x, mix.means, {.max_iterations = 1000});
                REQUIRE(fit.converged);
                const double m = moesim::fit::hard_fixed_point_symmetric(mu, sigma);
                Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(2, d);
                expected(0, 0) = m;
                expected(1, 0) = -m;
                // Each centre is a mean of ~n/2 points of spread <= sqrt(sigma^2 + mu^2), and
                // moves with the boundary between the cells with slope 2 f(0) m (f the density
                // of X at 0): 5 such standard errors.
                const double f0 = std::exp(-mu * mu / 2) / std::sqrt(2 * std::numbers::pi) / sigma;
                const double se =
                    std::sqrt((sigma * sigma + mu * mu) / (0.5 * double(n))) * (1 + 2 * f0 * m);
                CHECK(matched_error(fit.centres, expected) <= 5.0 * se);
                // And the population map by quadrature reproduces the closed form exactly.
                const auto population =
                    moesim::fit::population_hard_fixed_point(mix, mix.means, {});
                CHECK(population.converged);
                CHECK(population.span_dim == 1);
                CHECK(matched_error(population.means, expected) <= 1e-10);
            }
    }

    TEST_CASE("at rho = 1 the truth is the population EM fixed point") {
        for (const auto& [k, d] : {std::pair<Eigen::Index, Eigen::Index>{2, 3}, {3, 2}, {4, 3}}) {
            CAPTURE(k);
            const GaussianMixture mix =
                mixture(k == 2 ? MixtureGeometry::symmetric : MixtureGeometry::simplex, k, d, 2.0);
            PopulationSettings s;
            s.variance = 1.0;
            s.nodes = k == 4 ? 32 : 64;
            const auto fixed =
                moesim::fit::population_em_fixed_point(mix, mix.means, mix.weights, s);
            CHECK(fixed.span_dim == k - 1);
            CHECK(fixed.converged);
            // K = 2: a 1-D span (composite rule); Gauss-Hermite with 64 nodes (K = 3), 32 (K = 4).
            CHECK((fixed.means - mix.means).cwiseAbs().maxCoeff() <= (k == 2   ? 1e-9
                                                                      : k == 3 ? 1e-8
                                                                               : 1e-6));
        }
    }

    TEST_CASE("the population EM fixed point by quadrature agrees with a large-n Monte Carlo fit") {
        struct Case {
            MixtureGeometry geometry;
            Eigen::Index k, d;
            double snr, rho;
        };
        for (const Case c : {Case{MixtureGeometry::symmetric, 2, 1, 1.0, 0.6},
                             Case{MixtureGeometry::symmetric, 2, 1, 1.0, 1.2},
                             Case{MixtureGeometry::symmetric, 2, 3, 2.0, 0.8},
                             Case{MixtureGeometry::simplex, 3, 2, 3.0, 0.8},
                             Case{MixtureGeometry::simplex, 3, 3, 3.0, 1.1}}) {
            CAPTURE(c.k);
            CAPTURE(c.d);
            CAPTURE(c.rho);
            const GaussianMixture mix = mixture(c.geometry, c.k, c.d, c.snr);
            PopulationSettings s;
            s.variance = c.rho * c.rho;
            s.nodes = 128;
            s.panel_width = 0.01;
            const auto population =
                moesim::fit::population_em_fixed_point(mix, mix.means, mix.weights, s);
            REQUIRE(population.converged);
            // The rules are fine enough: halving them changes nothing at this accuracy (the
            // composite rule of dim S = 1 to rounding, Gauss-Hermite of dim S = 2 to 1e-5).
            s.nodes = 64;
            s.panel_width = 0.02;
            const auto coarse =
                moesim::fit::population_em_fixed_point(mix, mix.means, mix.weights, s);
            CAPTURE(population.span_dim);
            CHECK((coarse.means - population.means).cwiseAbs().maxCoeff() <=
                  (population.span_dim == 1 ? 1e-11 : 1e-5));
            const Eigen::Index n = 400000;
            const auto sample =
                moesim::model::sample_mixture(mix, 12, std::uint32_t(c.k * 10 + c.d), n);
            const auto fit = moesim::fit::fit_isotropic_mixture(
                sample.x, mix.means, mix.weights,
                {.variance = c.rho * c.rho, .tolerance = 1e-16, .max_iterations = 5000});
            REQUIRE(fit.converged);
            // Standard error of a mean of ~n/k points of spread sqrt(sigma^2 + SNR): 6 of them,
            // for the M-estimator's sensitivity.
            const double se = std::sqrt((1.0 + c.snr) * double(c.k) / double(n));
            CHECK(matched_error(fit.means, population.means) <= 6.0 * se);
        }
    }

    TEST_CASE("the population hard-assignment fixed point agrees with large-n Lloyd off the line") {
        const GaussianMixture mix = mixture(MixtureGeometry::simplex, 3, 2, 2.0);
        PopulationSettings s;
        s.panel_width = 0.01;
        const auto population = moesim::fit::population_hard_fixed_point(mix, mix.means, s);
        REQUIRE(population.converged);
        CHECK(population.span_dim == 2);
        s.panel_width = 0.05;
        const auto coarse = moesim::fit::population_hard_fixed_point(mix, mix.means, s);
        CHECK((coarse.means - population.means).cwiseAbs().maxCoeff() <= 1e-10);
        // By symmetry the fixed point is a scaled simplex, pushed outward.
        const double scale = population.means.row(0).norm() / mix.means.row(0).norm();
        CHECK(scale > 1.0);
        CHECK((population.means - scale * mix.means).cwiseAbs().maxCoeff() <= 1e-9);
        const Eigen::Index n = 1000000;
        const auto sample = moesim::model::sample_mixture(mix, 13, 0, n);
        const auto fit = moesim::fit::lloyd(sample.x, mix.means, {.max_iterations = 1000});
        REQUIRE(fit.converged);
        CHECK(matched_error(fit.centres, population.means) <=
              6.0 * std::sqrt(3.0 * 3.0 / double(n)));
    }

    TEST_CASE("population EM collapses to the centre just above rho_c and not just below") {
        for (const auto& [k, d, snr] : {std::tuple<Eigen::Index, Eigen::Index, double>{2, 1, 1.0},
                                        {2, 2, 4.0},
                                        {3, 2, 2.0}}) {
            const GaussianMixture mix =
                mixture(k == 2 ? MixtureGeometry::symmetric : MixtureGeometry::simplex, k, d, snr);
            const double rho_c = moesim::fit::collapse_threshold_rho(mix);
            for (const double factor : {0.98, 1.02}) {
                PopulationSettings s;
                s.variance = std::pow(factor * rho_c, 2);
                s.nodes = 48;
                s.tolerance = 1e-26;
                const auto fixed =
                    moesim::fit::population_em_fixed_point(mix, mix.means, mix.weights, s);
                CAPTURE(factor);
                CHECK(fixed.converged);
                const double distance = fixed.means.rowwise().norm().maxCoeff();
                if (factor > 1.0)
                    CHECK(distance <= 1e-6);
                else
                    CHECK(distance >= 0.05 * std::sqrt(snr));
            }
        }
    }
}
