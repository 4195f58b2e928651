#pragma once
// Maximum-likelihood fitting of contaminated MoEs (model/contaminated_moe.hpp) by EM: the
// E-step gives each sample's responsibility r_m of the prompt against the fixed f0; the
// M-step sets lambda = mean(r) (constant gate) in closed form, the prompt (a, b, nu) by
// weighted least squares with weights r, and the softmax gate (tau, beta) by damped Newton
// steps on the weighted logistic log-likelihood sum r log s + (1 - r) log(1 - s), each never
// decreasing it. So the log-likelihood never decreases. Inits are near the truth with noise
// sd c * n^-alpha (the rates experiment's protocol; f0 is known, so there is nothing to
// cluster). Users: the rates experiment; the gate objective is public for gradient tests.

#include "moesim/fit/em.hpp"
#include "moesim/model/contaminated_moe.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace moesim::fit {

/// Value, gradient and Hessian of Q(tau, beta) = sum_m r_m log s_m + (1 - r_m) log(1 - s_m),
/// s_m = sigmoid(beta'x_m + tau), packed as (tau, beta): gradient sum (r - s)(1, x), Hessian
/// -sum s(1 - s)(1, x)(1, x)'.
struct LogisticObjective {
    double value = 0.0;
    Eigen::VectorXd gradient; ///< d + 1
    Eigen::MatrixXd hessian;  ///< (d + 1) square, negative semi-definite
    /// log sigmoid of each sample's logit: an evaluation at the same point can take it
    /// instead of recomputing it (the Newton step after an accepted trial).
    Eigen::VectorXd log_s;
};

/// The gate objective at (gate_bias, gate_slope) for prompt weights r in [0, 1]; without
/// derivatives only `value` and `log_s` are filled (line searches need no more). `known_log_s`,
/// if given, is the `log_s` of an earlier evaluation at this same point (the result is then
/// bitwise the same, one exp and log1p per sample cheaper). Local.
LogisticObjective logistic_gate_objective(const Eigen::MatrixXd& x, const Eigen::VectorXd& r,
                                          const Eigen::VectorXd& gate_slope, double gate_bias,
                                          bool with_derivatives = true,
                                          const Eigen::VectorXd* known_log_s = nullptr);

/// E-step: the prompt's responsibilities r (n) and the log-likelihood. Local.
double contaminated_e_step(model::PromptGate gate, const model::PretrainedExpert& f0,
                           const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                           const model::ContaminatedParams& params, Eigen::VectorXd& r,
                           const model::ExpertFunction& prompt_mean = {});

/// M-step from the E-step's responsibilities at `params` (see the file comment; a nonlinear
/// prompt mean settings.expert_mean, or a bias held by settings.fit_expert_bias = false, by
/// fit/expert_mean_step's Levenberg-Marquardt steps instead of least squares); lambda is
/// kept inside [1e-12, 1 - 1e-12] so the log-likelihood stays finite, the variance above
/// settings.variance_floor, and the gate takes settings.gate_newton_steps Newton steps. Local.
void contaminated_m_step(model::PromptGate gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                         const Eigen::VectorXd& r, const EmSettings& settings,
                         model::ContaminatedParams& params);

/// Init of restart `restart` for a sample of size n: each free parameter of `truth` plus
/// noise of sd c * n^-alpha (lambda on the logit scale, nu on the log scale). Philox (seed,
/// "rates.contaminated.init") with counter (job id, restart, draw). Local; pure.
model::ContaminatedParams contaminated_initial_params(model::PromptGate gate,
                                                      const model::ContaminatedParams& truth,
                                                      Eigen::Index n, const EmSettings& settings,
                                                      std::uint64_t seed, std::uint64_t job_id,
                                                      std::uint32_t restart);

/// The best restart of a fit.
struct ContaminatedEmResult {
    model::ContaminatedParams params;
    std::int64_t iterations = 0; ///< of the best restart
    double log_likelihood = 0.0; ///< sum over samples, at params
    bool converged = false;      ///< tolerance reached before max_iterations
    std::int64_t restart = 0;
    std::vector<double> trace; ///< log-likelihood at init and after each iteration
};

/// Fits the prompt (and lambda or the gate) to (x, y) by EM from settings.restarts
/// near-truth inits; the highest log-likelihood wins (the first on ties). Serial and
/// deterministic. Local. Throws NumericalError if the log-likelihood becomes NaN or Inf.
ContaminatedEmResult fit_contaminated_em(model::PromptGate gate, const model::PretrainedExpert& f0,
                                         const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                         const model::ContaminatedParams& truth,
                                         const EmSettings& settings, std::uint64_t seed,
                                         std::uint64_t job_id);

} // namespace moesim::fit
