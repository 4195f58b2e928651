#pragma once
// Least-squares fitting of sigmoid-gated MoE regressions (model/sigmoid_moe) by
// Levenberg-Marquardt (MODELS.md section 1): Eigen's MINPACK port
// (unsupported/Eigen/NonLinearOptimization) on the residuals y - f(x) with the analytic
// Jacobian. Every accepted MINPACK step lowers the residual sum of squares (RSS), so the trace
// is non-increasing. The estimator of the paper (arXiv 2405.13997) is the global least-squares
// minimiser; restarts from several inits approximate it. Users: the rates experiment.

#include "moesim/core/stop_flag.hpp"
#include "moesim/model/sigmoid_moe.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace moesim::fit {

struct LeastSquaresSettings {
    /// MINPACK ftol and xtol: stop when the relative reduction of the RSS (actual and
    /// predicted) or the relative step is at most this.
    double tolerance = 1e-8;
    std::int64_t max_iterations = 1000; ///< accepted LM steps per restart
    /// Polled before every LM step: throws core::Interrupted when it says stop (a driver
    /// abandons the fit and redoes it after a restart). Empty: never.
    core::StopCheck stop;
    std::int64_t restarts = 1;        ///< independent inits; the lowest RSS wins
    double init_noise = 0.5;          ///< near-truth init noise sd = c * n^-alpha: c
    double init_noise_exponent = 0.0; ///< alpha
    /// MINPACK's initial step bound ("factor"): the first trust region has radius
    /// step_bound * |D theta0|. Small values keep LM in the basin of its init, which matters
    /// for over-specified fits whose RSS is nearly flat along directions leading far away.
    double step_bound = 100.0;
    /// The paper's estimator minimises over a compact parameter set. With bound B > 0 every
    /// packed parameter is kept in (-B, B) by fitting phi with theta = B tanh(phi / B) (the
    /// identity for |theta| << B); without it over-specified fits drift into steep-gate "tail
    /// patches" that fit noise far from the truth. 0 means unbounded.
    double parameter_bound = 0.0;
    /// The regression's gate (the sigmoid papers' model, or softmax_regression).
    model::RegressionGate gate = model::RegressionGate::sigmoid;
};

/// Where an init comes from: the truth, and Philox (seed, "rates.sigmoid.init") with counter
/// (job id, restart, draw) for its noise.
struct LeastSquaresInit {
    const model::SigmoidMoeParams* truth = nullptr;
    std::uint64_t seed = 0;
    std::uint64_t job_id = 0;
};

/// The outcome of one fit (the best restart).
struct LeastSquaresResult {
    model::SigmoidMoeParams params;
    std::int64_t iterations = 0; ///< accepted LM steps of the best restart
    double rss = 0.0;            ///< residual sum of squares at params
    bool converged = false;      ///< MINPACK stopped on a tolerance, not on the iteration cap
    std::int64_t restart = 0;    ///< which restart won
    std::vector<double> trace;   ///< RSS at init and after each accepted step
};

/// The near-truth init of restart `restart` for k fitted experts: fitted expert j starts at
/// true atom j mod k*; an atom split over m fitted experts gives each the gate bias
/// logit(sigma(beta0*)/m), so their gate values at beta1 = 0 add up to the true one (softmax
/// gate: beta0* - log m, so their softmax weights add up to the true one); then
/// every packed value gets N(0, sd^2) noise, sd = init_noise * n^-init_noise_exponent.
/// A pure function of its arguments. Throws InternalError without a truth or if k < 1.
model::SigmoidMoeParams near_truth_init(Eigen::Index k, Eigen::Index n,
                                        const LeastSquaresSettings& settings,
                                        const LeastSquaresInit& source, std::uint32_t restart);

/// Levenberg-Marquardt from `start` on (x, y) (inside the bound if one is set: starting
/// values are clamped to 0.999 B). Local and deterministic.
/// Throws NumericalError if the RSS becomes NaN or infinite.
LeastSquaresResult levenberg_marquardt(const model::ExpertFunction& expert,
                                       const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                       const model::SigmoidMoeParams& start,
                                       const LeastSquaresSettings& settings);

/// Fits a k-expert sigmoid MoE to (x, y) from settings.restarts near-truth inits and returns
/// the restart of lowest RSS (the first on ties). Local; depends only on the arguments.
LeastSquaresResult fit_least_squares(const model::ExpertFunction& expert, const Eigen::MatrixXd& x,
                                     const Eigen::VectorXd& y, Eigen::Index k,
                                     const LeastSquaresSettings& settings,
                                     const LeastSquaresInit& source);

} // namespace moesim::fit
