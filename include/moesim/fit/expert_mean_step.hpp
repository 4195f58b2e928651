#pragma once
// The expert part of an EM M-step for experts with a nonlinear mean phi(a'x + b)
// (model/expert_function.hpp; rates.expert_mean, MODELS.md section 1.1): for fixed
// responsibilities w, the expected complete log-likelihood of an expert is
//   -1/2 sum_m w_m (log(2 pi nu) + (y_m - phi(a'x_m + b))^2 / nu),
// so (a, b) minimise the weighted squared error S(a, b) = sum_m w_m (y_m - phi(a'x_m + b))^2
// for any nu, and then nu = S / sum w. There is no closed form for a nonlinear phi: the step
// takes damped Gauss-Newton (Levenberg-Marquardt) steps, each accepted only if S does not
// rise, so the surrogate, and with it the log-likelihood (generalised EM), never decreases.
// With fit_bias = false, b is held where it is (papers whose experts have no bias).
// Users: fit/em, fit/contaminated_em; public for gradient tests.

#include "moesim/model/expert_function.hpp"

#include <Eigen/Core>

namespace moesim::fit {

/// S(a, b) and its gradient packed as (dS/db, dS/da) (d + 1):
/// dS/db = -2 sum w r phi'(u), dS/da = -2 sum w r phi'(u) x, r = y - phi(u), u = a'x + b.
struct WeightedSquaredError {
    double value = 0.0;
    Eigen::VectorXd gradient; ///< d + 1, filled only when asked
};

/// S at (slope, bias) for weights w >= 0. Local.
WeightedSquaredError weighted_squared_error(const model::ExpertFunction& phi,
                                            const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                            const Eigen::VectorXd& w, const Eigen::VectorXd& slope,
                                            double bias, bool with_gradient = true);

/// Up to `steps` Levenberg-Marquardt steps on S from (slope, bias), each kept only if S does
/// not rise (b fixed unless fit_bias); stops early when a step cannot lower S. Returns S at
/// the result. Local; deterministic.
double expert_mean_step(const model::ExpertFunction& phi, const Eigen::MatrixXd& x,
                        const Eigen::VectorXd& y, const Eigen::VectorXd& w, bool fit_bias,
                        std::int64_t steps, Eigen::VectorXd& slope, double& bias);

} // namespace moesim::fit
