#include "moesim/fit/isotropic_mixture_em.hpp"

#include "moesim/core/error.hpp"
#include "moesim/fit/label_matching.hpp"
#include "moesim/fit/misspec_theory.hpp"
#include "moesim/model/gaussian_mixture.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>
#include <numbers>

using moesim::fit::IsotropicEmSettings;
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
                        Eigen::VectorXd weights = {}) {
    GaussianMixture mix;
    mix.sigma = 1.0;
    mix.means = moesim::model::mixture_means(geometry, k, d, snr, mix.sigma);
    mix.weights = weights.size() ? weights : moesim::model::uniform_weights(k);
    return mix;
}

// Textbook EM for the same model, one row and one component at a time.
struct Naive {
    Eigen::MatrixXd means;
    Eigen::VectorXd weights;
};
double naive_log_likelihood(const Eigen::MatrixXd& x, const Naive& p, double var) {
    double total = 0.0;
    for (Eigen::Index m = 0; m < x.rows(); ++m) {
        double density = 0.0;
        for (Eigen::Index c = 0; c < p.means.rows(); ++c)
            density += p.weights(c) *
                       std::exp(-(x.row(m) - p.means.row(c)).squaredNorm() / (2 * var)) /
                       std::pow(2 * std::numbers::pi * var, 0.5 * double(x.cols()));
        total += std::log(density);
    }
    return total;
}
Naive naive_step(const Eigen::MatrixXd& x, const Naive& p, double var, bool estimate_weights) {
    const Eigen::Index k = p.means.rows();
    Eigen::MatrixXd first = Eigen::MatrixXd::Zero(k, x.cols());
    Eigen::VectorXd mass = Eigen::VectorXd::Zero(k);
    for (Eigen::Index m = 0; m < x.rows(); ++m) {
        Eigen::VectorXd r(k);
        for (Eigen::Index c = 0; c < k; ++c)
            r(c) = p.weights(c) * std::exp(-(x.row(m) - p.means.row(c)).squaredNorm() / (2 * var));
        r /= r.sum();
        mass += r;
        first += r * x.row(m);
    }
    Naive next{first.array().colwise() / mass.array(), p.weights};
    if (estimate_weights)
        next.weights = mass / double(x.rows());
    return next;
}

double centre_distance(const Eigen::MatrixXd& means, const Eigen::RowVectorXd& centre) {
    return (means.rowwise() - centre).rowwise().norm().maxCoeff();
}

} // namespace

TEST_SUITE("fit::isotropic_mixture_em") {
    TEST_CASE("EM steps and log-likelihood agree with a row-by-row textbook EM") {
        const GaussianMixture mix =
            mixture(MixtureGeometry::simplex, 3, 2, 2.0, values({0.5, 0.3, 0.2}));
        const auto sample = moesim::model::sample_mixture(mix, 3, 0, 1500);
        for (const bool estimate : {false, true})
            for (const double var : {0.5, 1.0, 2.0}) {
                Naive naive{mix.means.array() + 0.3, values({0.2, 0.3, 0.5})};
                for (std::int64_t steps = 1; steps <= 4; ++steps) {
                    naive = naive_step(sample.x, naive, var, estimate);
                    IsotropicEmSettings s{.variance = var,
                                          .estimate_weights = estimate,
                                          .tolerance = 0.0,
                                          .max_iterations = steps};
                    const auto fit = moesim::fit::fit_isotropic_mixture(
                        sample.x, mix.means.array() + 0.3, values({0.2, 0.3, 0.5}), s);
                    CHECK(fit.iterations == steps);
                    CHECK_FALSE(fit.converged);
                    CHECK((fit.means - naive.means).cwiseAbs().maxCoeff() <= 1e-12);
                    CHECK((fit.weights - naive.weights).cwiseAbs().maxCoeff() <= 1e-13);
                    CHECK(
                        fit.log_likelihood ==
                        doctest::Approx(naive_log_likelihood(sample.x, naive, var)).epsilon(1e-12));
                }
            }
    }

    TEST_CASE("the log-likelihood never decreases along the EM path") {
        const GaussianMixture mix = mixture(MixtureGeometry::symmetric, 2, 3, 1.0);
        const auto sample = moesim::model::sample_mixture(mix, 4, 0, 4000);
        for (const bool estimate : {false, true}) {
            double previous = -std::numeric_limits<double>::infinity();
            for (std::int64_t steps = 1; steps <= 30; ++steps) {
                const auto fit = moesim::fit::fit_isotropic_mixture(sample.x, 0.2 * mix.means,
                                                                    values({0.7, 0.3}),
                                                                    {.variance = 1.3,
                                                                     .estimate_weights = estimate,
                                                                     .tolerance = 0.0,
                                                                     .max_iterations = steps});
                CHECK(fit.log_likelihood >= previous - 1e-9 * std::abs(previous));
                previous = fit.log_likelihood;
            }
        }
    }

    TEST_CASE("at rho = 1 EM recovers the means (and the weights when estimated)") {
        for (const Eigen::Index d : {1, 3})
            for (const bool estimate : {false, true}) {
                CAPTURE(d);
                CAPTURE(estimate);
                const Eigen::VectorXd weights = estimate ? values({0.3, 0.7}) : values({0.5, 0.5});
                const GaussianMixture mix = mixture(MixtureGeometry::symmetric, 2, d, 4.0, weights);
                const Eigen::Index n = 40000;
                const auto sample = moesim::model::sample_mixture(mix, 5, std::uint32_t(d), n);
                const auto fit = moesim::fit::fit_isotropic_mixture(
                    sample.x, mix.means * 0.5, estimate ? values({0.5, 0.5}) : weights,
                    {.variance = 1.0,
                     .estimate_weights = estimate,
                     .tolerance = 1e-16,
                     .max_iterations = 2000});
                REQUIRE(fit.converged);
                const auto match = moesim::fit::match_means(fit.means, mix.means);
                // Each mean from ~pi_k n samples (SNR 4: little overlap): 5 standard errors.
                for (Eigen::Index c = 0; c < 2; ++c) {
                    const Eigen::Index j = match.column_of_row[std::size_t(c)];
                    const double se = mix.sigma / std::sqrt(weights(c) * double(n));
                    CHECK((fit.means.row(j) - mix.means.row(c)).cwiseAbs().maxCoeff() <= 5.0 * se);
                    if (estimate)
                        CHECK(std::abs(fit.weights(j) - weights(c)) <=
                              5.0 * std::sqrt(weights(c) * (1 - weights(c)) / double(n)));
                }
            }
    }

    TEST_CASE("a few percent above the collapse threshold the means collapse, below they do not") {
        struct Case {
            MixtureGeometry geometry;
            Eigen::Index k, d;
            double snr;
        };
        for (const Case c : {Case{MixtureGeometry::symmetric, 2, 1, 0.5},
                             Case{MixtureGeometry::symmetric, 2, 1, 2.0},
                             Case{MixtureGeometry::symmetric, 2, 3, 1.0},
                             Case{MixtureGeometry::symmetric, 2, 4, 4.0},
                             Case{MixtureGeometry::simplex, 3, 2, 2.0}}) {
            CAPTURE(c.k);
            CAPTURE(c.d);
            CAPTURE(c.snr);
            const GaussianMixture mix = mixture(c.geometry, c.k, c.d, c.snr);
            const double rho_c = moesim::fit::collapse_threshold_rho(mix);
            // rho_c^2 = 1 + SNR for +-mu, 1 + SNR / (K - 1) for the simplex.
            CHECK(rho_c * rho_c == doctest::Approx(1.0 + c.snr / double(c.k - 1)).epsilon(1e-12));
            // The sample covariance's top eigenvalue is within ~sqrt(2/n) of the population's:
            // n = 1e5 keeps that well inside the +-4% in rho (+-8% in rho^2) tested here.
            const auto sample = moesim::model::sample_mixture(mix, 6, 0, 100000);
            const Eigen::RowVectorXd centre = sample.x.colwise().mean();
            const double radius = std::sqrt(c.snr) * mix.sigma;
            for (const double factor : {0.96, 1.04}) {
                const double rho = factor * rho_c;
                const auto fit = moesim::fit::fit_isotropic_mixture(
                    sample.x, mix.means, mix.weights,
                    {.variance = rho * rho, .tolerance = 1e-18, .max_iterations = 20000});
                CAPTURE(rho);
                CHECK(fit.converged);
                const double distance = centre_distance(fit.means, centre);
                if (factor > 1.0)
                    CHECK(distance <= 1e-3 * radius);
                else
                    CHECK(distance >= 0.1 * radius);
            }
        }
    }

    TEST_CASE("bad inputs are internal errors") {
        const Eigen::MatrixXd x = Eigen::MatrixXd::Zero(10, 2);
        const Eigen::MatrixXd mu = Eigen::MatrixXd::Zero(2, 2);
        CHECK_THROWS_AS(moesim::fit::fit_isotropic_mixture(x, mu, values({0.5, 0.6}), {}),
                        moesim::core::InternalError);
        CHECK_THROWS_AS(
            moesim::fit::fit_isotropic_mixture(x, mu, values({0.5, 0.5}), {.variance = 0.0}),
            moesim::core::InternalError);
        CHECK_THROWS_AS(moesim::fit::fit_isotropic_mixture(x, Eigen::MatrixXd::Zero(2, 3),
                                                           values({0.5, 0.5}), {}),
                        moesim::core::InternalError);
    }
}
