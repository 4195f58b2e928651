#include "moesim/fit/contaminated_em.hpp"

#include "fit/em_restarts.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/fit/expert_mean_step.hpp"
#include "moesim/model/row_exp.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <limits>

namespace moesim::fit {

namespace {

constexpr double mixing_margin = 1e-12;

} // namespace

LogisticObjective logistic_gate_objective(const Eigen::MatrixXd& x, const Eigen::VectorXd& r,
                                          const Eigen::VectorXd& gate_slope, double gate_bias,
                                          bool with_derivatives,
                                          const Eigen::VectorXd* known_log_s) {
    const Eigen::Index n = x.rows(), d = x.cols();
    const Eigen::VectorXd logit = (x * gate_slope).array() + gate_bias;
    LogisticObjective out;
    out.log_s.resize(n);
    Eigen::VectorXd residual(n), curvature(n);
    core::require(known_log_s == nullptr || known_log_s->size() == n,
                  "logistic_gate_objective: known_log_s has the wrong length");
    for (Eigen::Index m = 0; m < n; ++m) {
        const double t = logit(m);
        // log s = log_sigmoid(t), log(1 - s) = log s - t.
        const double log_s = known_log_s != nullptr ? (*known_log_s)(m) : model::log_sigmoid(t);
        out.log_s(m) = log_s;
        out.value += log_s - (1.0 - r(m)) * t;
        if (with_derivatives) {
            const double s = std::exp(log_s);
            residual(m) = r(m) - s;
            curvature(m) = s * (1.0 - s);
        }
    }
    if (!with_derivatives)
        return out;
    Eigen::MatrixXd x1(n, d + 1);
    x1.col(0).setOnes();
    x1.rightCols(d) = x;
    out.gradient = x1.transpose() * residual;
    out.hessian = -(x1.transpose() * curvature.asDiagonal() * x1);
    return out;
}

double contaminated_e_step(model::PromptGate gate, const model::PretrainedExpert& f0,
                           const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                           const model::ContaminatedParams& params, Eigen::VectorXd& r,
                           const model::ExpertFunction& prompt_mean) {
    Eigen::MatrixXd joint = model::contaminated_log_weights(gate, params, x) +
                            model::contaminated_component_log_densities(f0, params, x, y,
                                                                        prompt_mean);
    const model::ShiftedExp rows = model::exponentiate_rows(joint);
    r = (joint.col(1).array() / rows.sum).matrix();
    return (rows.max + rows.sum.log()).sum();
}

void contaminated_m_step(model::PromptGate gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                         const Eigen::VectorXd& r, const EmSettings& settings,
                         model::ContaminatedParams& params) {
    const Eigen::Index n = x.rows(), d = x.cols();
    const double mass = r.sum();
    if (mass > 1e-10 && (!settings.expert_mean.linear() || !settings.fit_expert_bias)) {
        const double sse =
            expert_mean_step(settings.expert_mean, x, y, r, settings.fit_expert_bias,
                             settings.expert_mean_steps, params.prompt_slope, params.prompt_bias);
        params.prompt_variance = std::max(settings.variance_floor, sse / mass);
    } else if (mass > 1e-10) {
        // Prompt: weighted least squares of y on (1, x), variance the weighted mean square.
        Eigen::MatrixXd x1(n, d + 1);
        x1.col(0).setOnes();
        x1.rightCols(d) = x;
        const Eigen::MatrixXd xtw = x1.transpose() * r.asDiagonal();
        Eigen::MatrixXd normal = xtw * x1;
        // Rounding-level ridge, as in fit/em: keeps the solve defined for degenerate inputs.
        normal.diagonal().array() += 1e-14 * (normal.trace() + 1.0);
        const Eigen::VectorXd coef = normal.ldlt().solve(xtw * y);
        params.prompt_bias = coef(0);
        params.prompt_slope = coef.tail(d);
        const Eigen::VectorXd resid = y - x1 * coef;
        params.prompt_variance =
            std::max(settings.variance_floor, r.dot(resid.cwiseProduct(resid)) / mass);
    }
    if (gate == model::PromptGate::constant) {
        params.mixing =
            std::clamp(mass / static_cast<double>(n), mixing_margin, 1.0 - mixing_margin);
        return;
    }
    // Gate: damped Newton ascent on the concave logistic objective; a step is halved until
    // the objective does not decrease, and dropped if 40 halvings do not get there. The
    // accepted trial's log sigmoids are the next step's (same point, same bits).
    Eigen::VectorXd accepted_log_s;
    for (std::int64_t step = 0; step < settings.gate_newton_steps; ++step) {
        const auto q = logistic_gate_objective(x, r, params.gate_slope, params.gate_bias, true,
                                               step > 0 ? &accepted_log_s : nullptr);
        Eigen::MatrixXd curvature = -q.hessian;
        curvature.diagonal().array() += 1e-12 * (curvature.trace() + 1.0);
        const Eigen::VectorXd direction = curvature.ldlt().solve(q.gradient);
        if (!direction.allFinite())
            return;
        double length = 1.0;
        bool moved = false;
        for (int halving = 0; halving < 40; ++halving, length *= 0.5) {
            const double bias = params.gate_bias + length * direction(0);
            const Eigen::VectorXd slope = params.gate_slope + length * direction.tail(d);
            const auto trial = logistic_gate_objective(x, r, slope, bias, false);
            if (trial.value >= q.value) {
                params.gate_bias = bias;
                params.gate_slope = slope;
                accepted_log_s = trial.log_s;
                moved = true;
                break;
            }
        }
        if (!moved)
            return;
    }
}

model::ContaminatedParams contaminated_initial_params(model::PromptGate gate,
                                                      const model::ContaminatedParams& truth,
                                                      Eigen::Index n, const EmSettings& settings,
                                                      std::uint64_t seed, std::uint64_t job_id,
                                                      std::uint32_t restart) {
    const Eigen::Index d = truth.dim();
    const core::Philox rng(seed, "rates.contaminated.init");
    // Draws: prompt slope (d), bias, log variance, then the gate: logit lambda, or tau, beta (d).
    Eigen::VectorXd z(2 * d + 4);
    rng.fill_normal(job_id, restart,
                    std::span<double>(z.data(), static_cast<std::size_t>(z.size())));
    const double sd =
        settings.init_noise * std::pow(static_cast<double>(n), -settings.init_noise_exponent);
    model::ContaminatedParams init = truth;
    init.prompt_slope = truth.prompt_slope + sd * z.head(d);
    init.prompt_bias = truth.prompt_bias + (settings.fit_expert_bias ? sd * z(d) : 0.0);
    init.prompt_variance = truth.prompt_variance * std::exp(sd * z(d + 1));
    if (gate == model::PromptGate::constant) {
        const double logit = std::log(truth.mixing) - std::log1p(-truth.mixing) + sd * z(d + 2);
        init.mixing =
            std::clamp(1.0 / (1.0 + std::exp(-logit)), mixing_margin, 1.0 - mixing_margin);
    } else {
        init.gate_bias = truth.gate_bias + sd * z(d + 2);
        init.gate_slope = truth.gate_slope + sd * z.segment(d + 3, d);
    }
    return init;
}

ContaminatedEmResult fit_contaminated_em(model::PromptGate gate, const model::PretrainedExpert& f0,
                                         const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                         const model::ContaminatedParams& truth,
                                         const EmSettings& settings, std::uint64_t seed,
                                         std::uint64_t job_id) {
    core::require(x.rows() == y.size() && x.cols() == truth.dim(),
                  "fit_contaminated_em: bad shapes");
    Eigen::VectorXd r;
    return impl::best_of_restarts<ContaminatedEmResult>(
        settings, "contaminated em log-likelihood",
        [&](std::uint32_t restart) {
            return contaminated_initial_params(gate, truth, x.rows(), settings, seed, job_id,
                                               restart);
        },
        [&](const model::ContaminatedParams& params) {
            return contaminated_e_step(gate, f0, x, y, params, r, settings.expert_mean);
        },
        [&](model::ContaminatedParams& params) {
            contaminated_m_step(gate, x, y, r, settings, params);
        });
}

} // namespace moesim::fit
