#pragma once
// EM for the means of an isotropic Gaussian mixture whose covariance is held at tau^2 I
// (weights fixed, or estimated when asked): the soft fit of the misspec experiment at
// tau = rho sigma (MODELS.md section 4), and, with quadrature points as weighted samples, the
// population map of fit/population_em. One pass over the samples, block by block and column
// by column (as model/row_exp.hpp), does the E-step, the log-likelihood and the M-step sums.

#include <Eigen/Core>

#include <cstdint>

namespace moesim::fit {

struct IsotropicEmSettings {
    double variance = 1.0;         ///< tau^2, fixed, > 0
    bool estimate_weights = false; ///< else the weights stay at their initial values
    /// Converged when an M-step moves the means by sum_k ||mu_k' - mu_k||^2 <= tolerance
    /// (absolute, in squared units of the data). A rule on the means rather than on the
    /// log-likelihood, whose change is quadratic in the step: near the collapse threshold EM
    /// contracts slowly and a likelihood rule would stop far from the fixed point.
    double tolerance = 1e-12;
    std::int64_t max_iterations = 1000; ///< M-steps at most (>= 1)
};

struct IsotropicEmResult {
    Eigen::MatrixXd means;       ///< k x d
    Eigen::VectorXd weights;     ///< k (the initial ones unless estimated)
    std::int64_t iterations = 0; ///< M-steps taken
    bool converged = false;      ///< tolerance reached within max_iterations
    double log_likelihood = 0.0; ///< sum_n s_n log sum_k pi_k N(x_n | mu_k, tau^2 I), at means
};

/// Fits the means (and, if asked, the weights) from `initial_means` (k x d) and
/// `initial_weights` (k, >= 0, summing to 1) to the rows of x (n x d), with optional
/// nonnegative sample weights s (n; empty: all 1). A component with no responsibility mass
/// keeps its mean. The log-likelihood never decreases. Deterministic: a pure function of the
/// arguments (rows in blocks of fixed size, sums in a fixed order). Local. Throws
/// InternalError on bad shapes or settings, NumericalError if the log-likelihood is not
/// finite.
IsotropicEmResult fit_isotropic_mixture(const Eigen::MatrixXd& x,
                                        const Eigen::MatrixXd& initial_means,
                                        const Eigen::VectorXd& initial_weights,
                                        const IsotropicEmSettings& settings,
                                        const Eigen::VectorXd& sample_weights = {});

/// sum_n s_n log sum_k pi_k N(x_n | mu_k, variance I) (s empty: all 1). Local.
double isotropic_mixture_log_likelihood(const Eigen::MatrixXd& x, const Eigen::MatrixXd& means,
                                        const Eigen::VectorXd& weights, double variance,
                                        const Eigen::VectorXd& sample_weights = {});

} // namespace moesim::fit
