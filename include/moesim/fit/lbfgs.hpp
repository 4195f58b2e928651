#pragma once
// Limited-memory BFGS minimisation (Nocedal & Wright, Numerical Optimization, 2nd ed.,
// algorithms 7.4 and 7.5) with a backtracking Armijo line search: every accepted step lowers
// the objective, which is what EM's gate step needs (a generalised M-step must not lower
// the surrogate). Curvature pairs with s'y <= 0 are skipped instead of enforcing the Wolfe
// curvature condition, so the search needs only values and gradients at trial points.
// Users: the gate M-steps of fit/em (temperature and activation gates, optional for softmax).

#include <Eigen/Core>

#include <cstdint>
#include <functional>

namespace moesim::fit {

struct LbfgsSettings {
    std::int64_t max_iterations = 100; ///< accepted steps at most
    std::int64_t memory = 8;           ///< curvature pairs kept
    /// Stop when |g|_inf <= gradient_tolerance * max(1, |f|).
    double gradient_tolerance = 1e-10;
    /// Stop when a step lowers f by at most value_tolerance * max(1, |f|).
    double value_tolerance = 1e-15;
    double armijo = 1e-4; ///< sufficient-decrease fraction of the predicted decrease
};

struct LbfgsResult {
    Eigen::VectorXd x;
    double value = 0.0;
    std::int64_t iterations = 0;
    bool converged = false; ///< a tolerance was met (not only max_iterations or a failed search)
};

/// f(x, gradient) returns f(x) and writes its gradient (resized by the caller to x.size()).
using ObjectiveWithGradient = std::function<double(const Eigen::VectorXd&, Eigen::VectorXd&)>;

/// Minimises f from x0. The returned value never exceeds f(x0), and each accepted step
/// lowers f. Deterministic: a pure function of f and x0. Local. A non-finite trial value
/// counts as a failed trial (the search backtracks), so f may return +inf outside its domain.
LbfgsResult minimize_lbfgs(const ObjectiveWithGradient& f, const Eigen::VectorXd& x0,
                           const LbfgsSettings& settings = {});

} // namespace moesim::fit
