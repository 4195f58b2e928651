#include "moesim/fit/expert_mean_step.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace moesim::fit {

WeightedSquaredError weighted_squared_error(const model::ExpertFunction& phi,
                                            const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                            const Eigen::VectorXd& w, const Eigen::VectorXd& slope,
                                            double bias, bool with_gradient) {
    const Eigen::VectorXd u = (x * slope).array() + bias;
    Eigen::VectorXd value, derivative;
    phi.evaluate(u, value, derivative);
    const Eigen::VectorXd resid = y - value;
    WeightedSquaredError out;
    out.value = w.dot(resid.cwiseProduct(resid));
    if (with_gradient) {
        const Eigen::VectorXd c = -2.0 * w.cwiseProduct(resid).cwiseProduct(derivative);
        out.gradient.resize(x.cols() + 1);
        out.gradient(0) = c.sum();
        out.gradient.tail(x.cols()) = x.transpose() * c;
    }
    return out;
}

double expert_mean_step(const model::ExpertFunction& phi, const Eigen::MatrixXd& x,
                        const Eigen::VectorXd& y, const Eigen::VectorXd& w, bool fit_bias,
                        std::int64_t steps, Eigen::VectorXd& slope, double& bias) {
    const Eigen::Index n = x.rows(), d = x.cols();
    const Eigen::Index offset = fit_bias ? 1 : 0; // columns of the Jacobian: (1, x) or x
    double current = weighted_squared_error(phi, x, y, w, slope, bias, false).value;
    double damping = 1e-6; // relative to the Gauss-Newton matrix's mean diagonal
    Eigen::MatrixXd jacobian(n, d + offset);
    for (std::int64_t step = 0; step < steps; ++step) {
        const Eigen::VectorXd u = (x * slope).array() + bias;
        Eigen::VectorXd value, derivative;
        phi.evaluate(u, value, derivative);
        const Eigen::VectorXd resid = y - value;
        // Rows phi'(u_m) (1, x_m): the Jacobian of the mean; J'WJ is the Gauss-Newton matrix.
        if (fit_bias)
            jacobian.col(0) = derivative;
        jacobian.rightCols(d) = x.array().colwise() * derivative.array();
        const Eigen::MatrixXd jtw = jacobian.transpose() * w.asDiagonal();
        const Eigen::MatrixXd normal = jtw * jacobian;
        const Eigen::VectorXd rhs = jtw * resid;
        const double scale = normal.trace() / static_cast<double>(normal.rows()) + 1e-300;
        bool moved = false;
        // Levenberg-Marquardt: raise the damping tenfold until the step lowers S (at most 20
        // tries), lower it after a success.
        for (int attempt = 0; attempt < 20 && !moved; ++attempt) {
            Eigen::MatrixXd damped = normal;
            damped.diagonal().array() += damping * scale;
            const Eigen::VectorXd delta = damped.ldlt().solve(rhs);
            if (!delta.allFinite())
                break;
            // The Gauss-Newton model predicts a decrease of about delta'J'Wr: when that is at
            // rounding level, S is at its minimum and further attempts only burn evaluations.
            if (!(delta.dot(rhs) > 1e-13 * current))
                return current;
            const Eigen::VectorXd trial_slope = slope + delta.tail(d);
            const double trial_bias = fit_bias ? bias + delta(0) : bias;
            const double trial =
                weighted_squared_error(phi, x, y, w, trial_slope, trial_bias, false).value;
            if (trial <= current) {
                moved = trial < current;
                slope = trial_slope;
                bias = trial_bias;
                current = trial;
                damping = std::max(1e-12, damping * 0.1);
                if (!moved)
                    return current; // at the minimum to rounding
            } else {
                damping *= 10.0;
            }
        }
        if (!moved)
            break;
    }
    return current;
}

} // namespace moesim::fit
