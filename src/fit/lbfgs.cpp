#include "moesim/fit/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <vector>

namespace moesim::fit {

LbfgsResult minimize_lbfgs(const ObjectiveWithGradient& f, const Eigen::VectorXd& x0,
                           const LbfgsSettings& settings) {
    LbfgsResult out;
    out.x = x0;
    Eigen::VectorXd grad(x0.size());
    out.value = f(out.x, grad);
    if (x0.size() == 0 || !std::isfinite(out.value)) {
        out.converged = x0.size() == 0;
        return out;
    }
    std::deque<Eigen::VectorXd> s_hist, y_hist;
    std::deque<double> rho_hist;
    Eigen::VectorXd trial_grad(x0.size());
    const auto memory = static_cast<std::size_t>(std::max<std::int64_t>(1, settings.memory));
    for (std::int64_t iteration = 0; iteration < settings.max_iterations; ++iteration) {
        if (grad.lpNorm<Eigen::Infinity>() <=
            settings.gradient_tolerance * std::max(1.0, std::abs(out.value))) {
            out.converged = true;
            return out;
        }
        // Two-loop recursion: direction = -H grad with H the L-BFGS inverse Hessian.
        Eigen::VectorXd q = grad;
        std::vector<double> alpha(s_hist.size());
        for (std::size_t m = s_hist.size(); m-- > 0;) {
            alpha[m] = rho_hist[m] * s_hist[m].dot(q);
            q -= alpha[m] * y_hist[m];
        }
        // Initial scaling gamma = s'y / y'y (N&W 7.20); before any pair, a step of length 1.
        const double gamma = s_hist.empty()
                                 ? 1.0 / std::max(1.0, grad.norm())
                                 : s_hist.back().dot(y_hist.back()) / y_hist.back().squaredNorm();
        q *= gamma;
        for (std::size_t m = 0; m < s_hist.size(); ++m) {
            const double beta = rho_hist[m] * y_hist[m].dot(q);
            q += (alpha[m] - beta) * s_hist[m];
        }
        Eigen::VectorXd direction = -q;
        double slope = direction.dot(grad);
        if (!(slope < 0.0) || !direction.allFinite()) { // lost descent: restart from -grad
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            direction = -grad / std::max(1.0, grad.norm());
            slope = direction.dot(grad);
        }
        bool accepted = false;
        Eigen::VectorXd trial;
        double trial_value = 0.0;
        for (double t = 1.0; t > 1e-20; t *= 0.5) {
            trial = out.x + t * direction;
            trial_value = f(trial, trial_grad);
            if (std::isfinite(trial_value) &&
                trial_value <= out.value + settings.armijo * t * slope) {
                accepted = true;
                break;
            }
        }
        if (!accepted)
            return out; // no decrease to rounding: out.x is as good as this method gets
        const Eigen::VectorXd s = trial - out.x;
        const Eigen::VectorXd y = trial_grad - grad;
        const double decrease = out.value - trial_value;
        out.x = trial;
        grad = trial_grad;
        out.value = trial_value;
        out.iterations = iteration + 1;
        const double sy = s.dot(y);
        if (sy > 1e-12 * s.norm() * y.norm()) {
            s_hist.push_back(s);
            y_hist.push_back(y);
            rho_hist.push_back(1.0 / sy);
            if (s_hist.size() > memory) {
                s_hist.pop_front();
                y_hist.pop_front();
                rho_hist.pop_front();
            }
        }
        if (decrease <= settings.value_tolerance * std::max(1.0, std::abs(out.value))) {
            out.converged = true;
            return out;
        }
    }
    return out;
}

} // namespace moesim::fit
