#pragma once
// Maximum-likelihood fitting of softmax-type gated Gaussian MoEs by EM (MODELS.md section 1):
// E-step responsibilities by log-sum-exp, closed-form weighted least squares for experts and
// variances, and a gate M-step. Softmax gate: damped Newton steps on the weighted
// multinomial log-likelihood (last expert's gate fixed at 0), each never decreasing the EM
// surrogate. Top-K gate (generalised EM): the likelihood jumps where a sample's top-K set
// changes and the surrogate's gradient does not see those jumps (Newton steps stalled 50
// nats below the truth's likelihood at n = 2e4), so the gate step is Nelder-Mead on the
// log-likelihood itself, kept only if it rises. Either way the log-likelihood never
// decreases. Users: the rates experiment; the gate objective is public for gradient tests.

#include "moesim/core/stop_flag.hpp"
#include "moesim/model/gaussian_moe.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::fit {

/// How EM starts: near the truth with noise of sd init_noise * n^-init_noise_exponent, or
/// from k-means++ on (x, y) followed by Lloyd iterations and one M-step on the hard labels.
enum class EmInit { near_truth, kmeans_pp };

/// "near_truth", "kmeans++".
std::vector<std::string> em_init_names();
/// Throws InternalError for names not in em_init_names().
EmInit parse_em_init(std::string_view name);

/// How the softmax gate's M-step maximises its concave objective: damped Newton (exact
/// Hessian, cost O(n (k d)^2) per step) or L-BFGS (gradients only, O(n k d) per step). Both
/// reach the same maximiser; the temperature and activation gates always use L-BFGS.
enum class GateOptimizer { newton, lbfgs };
/// "newton", "lbfgs".
std::vector<std::string> gate_optimizer_names();
/// Throws InternalError for names not in gate_optimizer_names().
GateOptimizer parse_gate_optimizer(std::string_view name);

struct EmSettings {
    double tolerance = 1e-8; ///< stop when |delta loglik| <= tolerance * max(1, |loglik|)
    std::int64_t max_iterations = 1000; ///< EM iterations (M-step + E-step) per restart
    std::int64_t restarts = 1;          ///< independent inits; the best log-likelihood wins
    /// Polled before every iteration: throws core::Interrupted when it says stop (a driver
    /// abandons the fit and redoes it after a restart). Empty: never.
    core::StopCheck stop;
    EmInit init = EmInit::near_truth;
    double init_noise = 0.5;          ///< c in sd = c * n^-alpha (near_truth)
    double init_noise_exponent = 0.0; ///< alpha in sd = c * n^-alpha (near_truth)
    std::int64_t gate_newton_steps =
        3;                        ///< gate Newton steps per M-step (top-K: effort of the search)
    double variance_floor = 1e-8; ///< lower bound on fitted variances
    GateOptimizer gate_optimizer = GateOptimizer::newton; ///< softmax gate only
    std::int64_t gate_lbfgs_iterations = 20;              ///< L-BFGS steps of the gate per M-step
    /// phi of the experts' means phi(a'x + b) (rates.expert_mean). Linear: the closed-form
    /// weighted least squares; otherwise fit/expert_mean_step's Levenberg-Marquardt steps.
    model::ExpertFunction expert_mean;
    /// Levenberg-Marquardt steps per expert per M-step for a nonlinear mean (or no bias).
    std::int64_t expert_mean_steps = 5;
    /// false: every expert bias b stays at its init (the truth's, for near_truth inits).
    bool fit_expert_bias = true;
    /// near_truth with k > k*: an atom split over m fitted experts gives each copy gate bias
    /// beta0 - log m, so that under a softmax gate the initial mixture equals the truth.
    /// fit_em turns it off for gates without full support (top-K): they renormalise over the
    /// selected experts, so lowering the copies' biases only moves the selection boundaries
    /// (a top-1 init then misroutes the band between the true and the shifted boundary).
    bool share_split_mass = true;
};

/// Where an init's randomness comes from: Philox (seed, "rates.init") with counter (job id,
/// restart, draw), and the truth for near_truth inits (may be null for kmeans_pp).
struct InitSource {
    const model::MoeParams* truth = nullptr;
    std::uint64_t seed = 0;
    std::uint64_t job_id = 0;
};

/// The outcome of one fit (the best restart).
struct EmResult {
    model::MoeParams params;     ///< last expert's gate is 0
    std::int64_t iterations = 0; ///< EM iterations of the best restart
    double log_likelihood = 0.0; ///< sum over samples, at params
    bool converged = false;      ///< tolerance reached before max_iterations
    std::int64_t restart = 0;    ///< which restart won
    std::vector<double> trace;   ///< log-likelihood at init and after each iteration
};

/// Value, gradient and Hessian of the gate M-step objective
/// Q(beta) = sum_n sum_i r_ni log softmax_i(beta1_i'x_n + beta0_i) with expert k-1 fixed at 0.
/// The free parameters are packed expert by expert as (beta0_i, beta1_i) for i < k-1.
struct GateObjective {
    double value = 0.0;
    Eigen::VectorXd gradient; ///< (k-1)(d+1)
    Eigen::MatrixXd hessian;  ///< (k-1)(d+1) square, negative semi-definite
};

/// Packs gate_bias/gate_slope rows 0..k-2 as above (the last row is ignored).
Eigen::VectorXd pack_gate(const model::MoeParams& params);
/// Writes a packed vector back into rows 0..k-2 and sets the last row to 0.
void unpack_gate(const Eigen::VectorXd& packed, model::MoeParams& params);

/// The gate objective of `gate` at `params` for weights `resp` (n x k, nonnegative, zero
/// where the gate is zero). For top-K gates it is the objective with each sample's top-K set
/// held fixed (the sets are those of `params`). Local.
GateObjective gate_objective(const model::Gate& gate, const Eigen::MatrixXd& x,
                             const Eigen::MatrixXd& resp, const model::MoeParams& params,
                             bool with_hessian = true);

/// E-step: responsibilities (n x k, rows sum to 1) and the log-likelihood. Local.
/// `mean` is phi of the experts' means (EmSettings::expert_mean).
double e_step(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
              const model::MoeParams& params, Eigen::MatrixXd& resp,
              const model::ExpertFunction& mean = {});

/// M-step from responsibilities (the E-step's at `params`): experts and variances in closed
/// form, then the gate: the softmax gate by `settings.gate_newton_steps` Newton steps with
/// backtracking or by `settings.gate_lbfgs_iterations` L-BFGS steps (settings.gate_optimizer);
/// temperature and activation gates (and their temperature) by L-BFGS on Q over
/// pack_tempered_gate's parameters; either way Q never decreases. Gates without full
/// support by Nelder-Mead on the log-likelihood with 10 * gate_newton_steps * (parameters +
/// 1) evaluations, kept only if it rises. Local.
void m_step(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
            const Eigen::MatrixXd& resp, const EmSettings& settings, model::MoeParams& params);

/// The init of restart `restart` for k experts (see EmInit; the k-means++ init fits a
/// softmax gate to the cluster labels, with temperature 1; near_truth also perturbs the
/// temperature, by a factor exp(sd z)). Local; a pure function of its arguments. Throws
/// InternalError for near_truth without a truth.
model::MoeParams initial_params(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, Eigen::Index k,
                                const EmSettings& settings, const InitSource& source,
                                std::uint32_t restart);

/// Fits a k-expert Gaussian MoE with a softmax-type `gate` (softmax, top-K) to (x, y) by EM
/// from settings.restarts inits; returns the restart with the highest log-likelihood (the
/// first on ties). Serial and deterministic: the result depends only on the arguments.
/// Local. Throws NumericalError if the log-likelihood becomes NaN.
EmResult fit_em(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                Eigen::Index k, const EmSettings& settings, const InitSource& source);

} // namespace moesim::fit
