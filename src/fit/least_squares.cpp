#include "moesim/fit/least_squares.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <unsupported/Eigen/NonLinearOptimization>

#include <cmath>
#include <limits>
#include <span>

namespace moesim::fit {

namespace {

// theta = B tanh(phi / B) and its inverse; B = 0 is the identity.
Eigen::VectorXd to_theta(const Eigen::VectorXd& phi, double bound) {
    if (bound <= 0.0)
        return phi;
    return bound * (phi / bound).array().tanh().matrix();
}

Eigen::VectorXd to_phi(const Eigen::VectorXd& theta, double bound) {
    if (bound <= 0.0)
        return theta;
    const Eigen::ArrayXd clamped = (theta / bound).array().max(-0.999).min(0.999);
    return bound * clamped.atanh().matrix();
}

// The MINPACK functor in phi: residuals r = f(x) - y and their Jacobian df/dphi.
struct Residuals {
    using Scalar = double;
    using InputType = Eigen::VectorXd;
    using ValueType = Eigen::VectorXd;
    using JacobianType = Eigen::MatrixXd;
    enum { InputsAtCompileTime = Eigen::Dynamic, ValuesAtCompileTime = Eigen::Dynamic };

    const model::ExpertFunction& expert;
    const Eigen::MatrixXd& x;
    const Eigen::VectorXd& y;
    Eigen::Index k;
    double bound;
    model::RegressionGate gate;

    Eigen::Index inputs() const { return k * (2 * x.cols() + 2); }
    Eigen::Index values() const { return x.rows(); }
    model::SigmoidMoeParams params(const Eigen::VectorXd& phi) const {
        return model::SigmoidMoeParams::unpack(to_theta(phi, bound), k, x.cols());
    }
    int operator()(const Eigen::VectorXd& phi, Eigen::VectorXd& r) const {
        r = model::sigmoid_moe_mean(expert, params(phi), x, gate) - y;
        return 0;
    }
    int df(const Eigen::VectorXd& phi, Eigen::MatrixXd& jac) const {
        jac = model::sigmoid_moe_jacobian(expert, params(phi), x, gate);
        if (bound > 0.0) {
            // d theta / d phi = 1 - tanh^2(phi / B).
            const Eigen::ArrayXd t = (phi / bound).array().tanh();
            jac = jac * (1.0 - t.square()).matrix().asDiagonal();
        }
        return 0;
    }
};

void check_finite(double rss, std::int64_t step) {
    if (!std::isfinite(rss))
        throw core::NumericalError("least-squares residual sum of squares", step, rss,
                                   core::Scope::local);
}

} // namespace

model::SigmoidMoeParams near_truth_init(Eigen::Index k, Eigen::Index n,
                                        const LeastSquaresSettings& settings,
                                        const LeastSquaresInit& source, std::uint32_t restart) {
    if (source.truth == nullptr || k < 1)
        throw core::InternalError("near_truth_init: needs the truth and k >= 1");
    const model::SigmoidMoeParams& truth = *source.truth;
    const Eigen::Index k_true = truth.experts(), d = truth.dim();
    Eigen::VectorXd copies = Eigen::VectorXd::Zero(k_true);
    for (Eigen::Index j = 0; j < k; ++j)
        copies(j % k_true) += 1.0;
    model::SigmoidMoeParams init = model::SigmoidMoeParams::zeros(k, d);
    for (Eigen::Index j = 0; j < k; ++j) {
        const Eigen::Index i = j % k_true;
        if (settings.gate == model::RegressionGate::softmax) {
            init.gate_bias(j) = truth.gate_bias(i) - std::log(copies(i));
        } else {
            const double share = 1.0 / (1.0 + std::exp(-truth.gate_bias(i))) / copies(i);
            init.gate_bias(j) = std::log(share / (1.0 - share));
        }
        init.gate_slope.row(j) = truth.gate_slope.row(i);
        init.expert_bias(j) = truth.expert_bias(i);
        init.expert_slope.row(j) = truth.expert_slope.row(i);
    }
    Eigen::VectorXd packed = init.pack();
    Eigen::VectorXd noise(packed.size());
    const core::Philox rng(source.seed, "rates.sigmoid.init");
    rng.fill_normal(source.job_id, restart,
                    std::span<double>(noise.data(), static_cast<std::size_t>(noise.size())));
    const double sd =
        settings.init_noise * std::pow(static_cast<double>(n), -settings.init_noise_exponent);
    packed += sd * noise;
    return model::SigmoidMoeParams::unpack(packed, k, d);
}

LeastSquaresResult levenberg_marquardt(const model::ExpertFunction& expert,
                                       const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                       const model::SigmoidMoeParams& start,
                                       const LeastSquaresSettings& settings) {
    start.check();
    core::require(x.rows() == y.size() && x.cols() == start.dim(),
                  "levenberg_marquardt: data and parameters do not match");
    const Eigen::Index k = start.experts();
    Residuals residuals{expert, x, y, k, settings.parameter_bound, settings.gate};
    Eigen::LevenbergMarquardt<Residuals> lm(residuals);
    lm.parameters.ftol = settings.tolerance;
    lm.parameters.xtol = settings.tolerance;
    lm.parameters.gtol = 0.0;
    lm.parameters.factor = settings.step_bound;
    // The iteration cap is ours; MINPACK's evaluation cap only guards a runaway inner loop.
    lm.parameters.maxfev = static_cast<Eigen::Index>(
        std::min<std::int64_t>(100 * (settings.max_iterations + 1), std::int64_t{1} << 30));

    LeastSquaresResult result;
    Eigen::VectorXd phi = to_phi(start.pack(), settings.parameter_bound);
    auto status = lm.minimizeInit(phi);
    double rss = lm.fnorm * lm.fnorm;
    check_finite(rss, 0);
    result.trace.push_back(rss);
    if (status == Eigen::LevenbergMarquardtSpace::ImproperInputParameters)
        throw core::InternalError("levenberg_marquardt: MINPACK rejected its parameters");
    std::int64_t steps = 0;
    while (steps < settings.max_iterations) {
        core::throw_if_stopped(settings.stop);
        status = lm.minimizeOneStep(phi);
        ++steps;
        rss = lm.fnorm * lm.fnorm;
        check_finite(rss, steps);
        result.trace.push_back(rss);
        if (status != Eigen::LevenbergMarquardtSpace::Running)
            break;
    }
    using Eigen::LevenbergMarquardtSpace::Status;
    // 1-4: a tolerance was met; 6-8: no further progress is possible at machine precision.
    result.converged = status == Status::RelativeReductionTooSmall ||
                       status == Status::RelativeErrorTooSmall ||
                       status == Status::RelativeErrorAndReductionTooSmall ||
                       status == Status::CosinusTooSmall || status == Status::FtolTooSmall ||
                       status == Status::XtolTooSmall || status == Status::GtolTooSmall;
    result.iterations = steps;
    result.params = residuals.params(phi);
    // MINPACK's fnorm is that of the last accepted point, which phi holds.
    result.rss = rss;
    return result;
}

LeastSquaresResult fit_least_squares(const model::ExpertFunction& expert, const Eigen::MatrixXd& x,
                                     const Eigen::VectorXd& y, Eigen::Index k,
                                     const LeastSquaresSettings& settings,
                                     const LeastSquaresInit& source) {
    core::require(settings.restarts >= 1, "fit_least_squares: restarts must be >= 1");
    LeastSquaresResult best;
    best.rss = std::numeric_limits<double>::infinity();
    for (std::int64_t r = 0; r < settings.restarts; ++r) {
        const auto start =
            near_truth_init(k, x.rows(), settings, source, static_cast<std::uint32_t>(r));
        auto result = levenberg_marquardt(expert, x, y, start, settings);
        if (result.rss < best.rss) {
            result.restart = r;
            best = std::move(result);
        }
    }
    return best;
}

} // namespace moesim::fit
