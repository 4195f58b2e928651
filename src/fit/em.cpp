#include "moesim/fit/em.hpp"

#include "fit/em_restarts.hpp"
#include "fit/lbfgs_gate_step.hpp"
#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/fit/expert_mean_step.hpp"
#include "moesim/fit/kmeans.hpp"
#include "moesim/model/row_exp.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace moesim::fit {

namespace {

// sum_n sum_i r_ni log G_i(x_n), with 0 * log 0 = 0 where the gate switches experts off.
double weighted_log_gate(const Eigen::MatrixXd& resp, const Eigen::MatrixXd& log_g) {
    return (resp.array() > 0.0).select(resp.cwiseProduct(log_g), 0.0).sum();
}

// One damped Newton step of the gate, accepted (params updated, true returned) only if
// `objective` rises by the Armijo fraction of the predicted increase. `resp` must be the
// weights the direction is computed from.
template <class Objective>
bool gate_newton_step(const model::Gate& gate, const Eigen::MatrixXd& x,
                      const Eigen::MatrixXd& resp, Objective objective, model::MoeParams& params) {
    const GateObjective q = gate_objective(gate, x, resp, params);
    const double current = q.value;
    const Eigen::VectorXd theta = pack_gate(params);
    Eigen::MatrixXd neg_hessian = -q.hessian;
    neg_hessian.diagonal().array() += 1e-12 * (neg_hessian.trace() + 1.0);
    Eigen::LDLT<Eigen::MatrixXd> ldlt(neg_hessian);
    Eigen::VectorXd direction = ldlt.solve(q.gradient);
    if (ldlt.info() != Eigen::Success || !direction.allFinite() || direction.dot(q.gradient) <= 0.0)
        direction = q.gradient / (1.0 + neg_hessian.diagonal().maxCoeff());
    const double slope = direction.dot(q.gradient);
    if (!(slope > 1e-14 * (std::abs(current) + 1.0)))
        return false; // at the maximum to rounding
    model::MoeParams trial = params;
    for (double t = 1.0; t > 1e-12; t *= 0.5) {
        unpack_gate(theta + t * direction, trial);
        if (objective(trial) >= current + 1e-4 * t * slope) {
            params = trial;
            return true;
        }
    }
    return false;
}

// Out of line: inlined into the Nelder-Mead loop, GCC 12 with -march=native reports a
// false -Wuninitialized inside Eigen's AVX-512 reduction.
[[gnu::noinline]] double total_log_likelihood(const model::Gate& gate,
                                              const model::MoeParams& params,
                                              const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                              const model::ExpertFunction& mean) {
    return model::log_density(gate, params, x, y, mean).sum();
}

// Nelder-Mead maximisation of f from x0 (Nelder & Mead 1965; coefficients 1, 2, 1/2, 1/2),
// for objectives with jumps where gradients mislead. Returns the best vertex.
template <class F>
Eigen::VectorXd nelder_mead(F f, const Eigen::VectorXd& x0, double scale, int max_evals) {
    const Eigen::Index dim = x0.size();
    Eigen::MatrixXd pts = x0.replicate(1, dim + 1); // one vertex per column
    Eigen::VectorXd val(dim + 1);
    for (Eigen::Index i = 0; i < dim; ++i)
        pts(i, i + 1) += scale;
    int evals = 0;
    for (Eigen::Index i = 0; i <= dim; ++i, ++evals)
        val(i) = f(Eigen::VectorXd(pts.col(i)));
    while (evals < max_evals) {
        Eigen::Index best = 0, worst = 0;
        val.maxCoeff(&best);
        val.minCoeff(&worst);
        double second_worst = std::numeric_limits<double>::infinity();
        for (Eigen::Index i = 0; i <= dim; ++i)
            if (i != worst)
                second_worst = std::min(second_worst, val(i));
        const Eigen::VectorXd centroid = (pts.rowwise().sum() - pts.col(worst)) / double(dim);
        const Eigen::VectorXd away = centroid - pts.col(worst);
        const Eigen::VectorXd reflected = centroid + away;
        const double f_reflected = f(reflected);
        ++evals;
        if (f_reflected > val(best)) {
            const Eigen::VectorXd expanded = centroid + 2.0 * away;
            const double f_expanded = f(expanded);
            ++evals;
            const bool take_expanded = f_expanded > f_reflected;
            pts.col(worst) = take_expanded ? expanded : reflected;
            val(worst) = take_expanded ? f_expanded : f_reflected;
        } else if (f_reflected > second_worst) {
            pts.col(worst) = reflected;
            val(worst) = f_reflected;
        } else {
            const Eigen::VectorXd contracted = centroid - 0.5 * away;
            const double f_contracted = f(contracted);
            ++evals;
            if (f_contracted > val(worst)) {
                pts.col(worst) = contracted;
                val(worst) = f_contracted;
            } else {
                for (Eigen::Index i = 0; i <= dim; ++i)
                    if (i != best) {
                        pts.col(i) = pts.col(best) + 0.5 * (pts.col(i) - pts.col(best));
                        val(i) = f(Eigen::VectorXd(pts.col(i)));
                        ++evals;
                    }
            }
        }
    }
    Eigen::Index top = 0;
    val.maxCoeff(&top);
    return pts.col(top);
}

} // namespace

std::vector<std::string> em_init_names() {
    return {"near_truth", "kmeans++"};
}

EmInit parse_em_init(std::string_view name) {
    if (name == "near_truth")
        return EmInit::near_truth;
    if (name == "kmeans++")
        return EmInit::kmeans_pp;
    throw core::InternalError(fmt::format("parse_em_init: unknown init '{}'", name));
}

Eigen::VectorXd pack_gate(const model::MoeParams& params) {
    const Eigen::Index k = params.experts(), d = params.dim();
    Eigen::VectorXd packed((k - 1) * (d + 1));
    for (Eigen::Index i = 0; i + 1 < k; ++i) {
        packed(i * (d + 1)) = params.gate_bias(i);
        packed.segment(i * (d + 1) + 1, d) = params.gate_slope.row(i).transpose();
    }
    return packed;
}

void unpack_gate(const Eigen::VectorXd& packed, model::MoeParams& params) {
    const Eigen::Index k = params.experts(), d = params.dim();
    core::require(packed.size() == (k - 1) * (d + 1), "unpack_gate: wrong packed size");
    for (Eigen::Index i = 0; i + 1 < k; ++i) {
        params.gate_bias(i) = packed(i * (d + 1));
        params.gate_slope.row(i) = packed.segment(i * (d + 1) + 1, d).transpose();
    }
    params.gate_bias(k - 1) = 0.0;
    params.gate_slope.row(k - 1).setZero();
}

GateObjective gate_objective(const model::Gate& gate, const Eigen::MatrixXd& x,
                             const Eigen::MatrixXd& resp, const model::MoeParams& params,
                             bool with_hessian) {
    const Eigen::Index n = x.rows(), d = x.cols(), k = params.experts();
    const Eigen::Index width = d + 1;
    // With the top-K sets fixed, log G is a softmax over each sample's set, so the softmax
    // formulas hold with pi_ni = 0 outside the set.
    const Eigen::MatrixXd log_g = gate.log_weights(params, x);
    const Eigen::MatrixXd prob = log_g.array().exp().matrix();
    const Eigen::VectorXd weight_sum = resp.rowwise().sum();
    Eigen::MatrixXd x1(n, width); // rows (1, x_n)
    x1.col(0).setOnes();
    x1.rightCols(d) = x;

    GateObjective out;
    out.value = weighted_log_gate(resp, log_g);
    out.gradient.resize((k - 1) * width);
    // dQ/dbeta_i = sum_n (r_ni - s_n pi_ni) (1, x_n), s_n = sum_l r_nl.
    for (Eigen::Index i = 0; i + 1 < k; ++i) {
        const Eigen::VectorXd coeff = resp.col(i) - weight_sum.cwiseProduct(prob.col(i));
        out.gradient.segment(i * width, width) = x1.transpose() * coeff;
    }
    if (with_hessian) {
        // d2Q/dbeta_i dbeta_l = -sum_n s_n pi_ni (delta_il - pi_nl) (1, x_n)(1, x_n)'.
        out.hessian.resize((k - 1) * width, (k - 1) * width);
        for (Eigen::Index i = 0; i + 1 < k; ++i)
            for (Eigen::Index l = i; l + 1 < k; ++l) {
                const Eigen::VectorXd w = -(weight_sum.array() * prob.col(i).array() *
                                            ((i == l ? 1.0 : 0.0) - prob.col(l).array()))
                                               .matrix();
                const Eigen::MatrixXd block = x1.transpose() * w.asDiagonal() * x1;
                out.hessian.block(i * width, l * width, width, width) = block;
                out.hessian.block(l * width, i * width, width, width) = block.transpose();
            }
    }
    return out;
}

double e_step(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
              const model::MoeParams& params, Eigen::MatrixXd& resp,
              const model::ExpertFunction& mean) {
    resp = gate.log_weights(params, x) + model::expert_log_densities(params, x, y, mean);
    const model::ShiftedExp rows = model::exponentiate_rows(resp);
    const Eigen::ArrayXd inverse = rows.sum.inverse();
    for (Eigen::Index i = 0; i < resp.cols(); ++i)
        resp.col(i).array() *= inverse;
    return (rows.max + rows.sum.log()).sum();
}

void m_step(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
            const Eigen::MatrixXd& resp, const EmSettings& settings, model::MoeParams& params) {
    const Eigen::Index n = x.rows(), d = x.cols(), k = params.experts();
    Eigen::MatrixXd x1(n, d + 1);
    x1.col(0).setOnes();
    x1.rightCols(d) = x;
    // Experts: weighted least squares of y on (1, x) with weights r_ni; variance the weighted
    // mean squared residual. An expert with (numerically) no weight keeps its parameters.
    for (Eigen::Index i = 0; i < k; ++i) {
        const double mass = resp.col(i).sum();
        if (!(mass > 1e-10))
            continue;
        if (!settings.expert_mean.linear() || !settings.fit_expert_bias) {
            // No closed form (or b held): Levenberg-Marquardt on the weighted squared error,
            // then the variance that maximises the surrogate given the mean.
            Eigen::VectorXd slope = params.expert_slope.row(i).transpose();
            double bias = params.expert_bias(i);
            const double sse =
                expert_mean_step(settings.expert_mean, x, y, resp.col(i), settings.fit_expert_bias,
                                 settings.expert_mean_steps, slope, bias);
            params.expert_slope.row(i) = slope.transpose();
            params.expert_bias(i) = bias;
            params.variance(i) = std::max(settings.variance_floor, sse / mass);
            continue;
        }
        const Eigen::MatrixXd xtw = x1.transpose() * resp.col(i).asDiagonal();
        Eigen::MatrixXd normal = xtw * x1;
        // A ridge at rounding level keeps the solve defined when an expert sees too few
        // distinct inputs; it moves the maximiser by O(1e-14) relative.
        normal.diagonal().array() += 1e-14 * (normal.trace() + 1.0);
        const Eigen::VectorXd coef = normal.ldlt().solve(xtw * y);
        params.expert_bias(i) = coef(0);
        params.expert_slope.row(i) = coef.tail(d).transpose();
        const Eigen::VectorXd resid = y - x1 * coef;
        params.variance(i) =
            std::max(settings.variance_floor, resp.col(i).dot(resid.cwiseProduct(resid)) / mass);
    }
    if (k < 2)
        return;
    if (lbfgs_gate_step(gate, x, resp, settings, params))
        return;
    if (!gate.full_support()) {
        // The likelihood jumps where a sample's top-K set changes, and the gradient of Q
        // does not see those jumps: Nelder-Mead on the log-likelihood itself, kept only if
        // it rises (so the log-likelihood never decreases).
        model::MoeParams trial = params;
        auto loglik = [&](const Eigen::VectorXd& theta) {
            unpack_gate(theta, trial);
            return total_log_likelihood(gate, trial, x, y, settings.expert_mean);
        };
        const Eigen::VectorXd theta = pack_gate(params);
        const double current = loglik(theta);
        const Eigen::VectorXd best =
            nelder_mead(loglik, theta, 0.05,
                        static_cast<int>(settings.gate_newton_steps * 10 * (theta.size() + 1)));
        if (loglik(best) > current)
            unpack_gate(best, params);
        return;
    }
    // Damped Newton on the concave Q with Armijo backtracking: Q never decreases.
    auto q_value = [&](const model::MoeParams& p) {
        return weighted_log_gate(resp, gate.log_weights(p, x));
    };
    for (std::int64_t step = 0; step < settings.gate_newton_steps; ++step)
        if (!gate_newton_step(gate, x, resp, q_value, params))
            break;
}

model::MoeParams initial_params(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, Eigen::Index k,
                                const EmSettings& settings, const InitSource& source,
                                std::uint32_t restart) {
    const Eigen::Index n = x.rows(), d = x.cols();
    const core::Philox rng(source.seed, "rates.init");
    if (settings.init == EmInit::near_truth) {
        if (source.truth == nullptr)
            throw core::InternalError("initial_params: near_truth init needs the truth");
        const model::MoeParams truth = source.truth->last_gate_zero();
        const Eigen::Index k_true = truth.experts();
        core::require(truth.dim() == d, "initial_params: truth and data dimensions differ");
        // Fitted expert j starts at true atom j mod k_true; atoms split over m fitted experts
        // share their gate mass (bias - log m), so the initial mixture equals the truth.
        model::MoeParams init = model::MoeParams::zeros(k, d);
        Eigen::VectorXd copies = Eigen::VectorXd::Zero(k_true);
        for (Eigen::Index j = 0; j < k; ++j)
            copies(j % k_true) += 1.0;
        const double sd =
            settings.init_noise * std::pow(static_cast<double>(n), -settings.init_noise_exponent);
        const Eigen::Index per_expert = 2 * d + 3;
        // The last draw perturbs the temperature (appended, so the others do not change).
        Eigen::VectorXd noise(k * per_expert + 1);
        rng.fill_normal(source.job_id, restart,
                        std::span<double>(noise.data(), static_cast<std::size_t>(noise.size())));
        for (Eigen::Index j = 0; j < k; ++j) {
            const Eigen::Index i = j % k_true;
            const auto z = noise.segment(j * per_expert, per_expert);
            init.gate_slope.row(j) = truth.gate_slope.row(i) + sd * z.head(d).transpose();
            const double share =
                settings.share_split_mass ? truth.temperature * std::log(copies(i)) : 0.0;
            init.gate_bias(j) = truth.gate_bias(i) - share + sd * z(d);
            init.expert_slope.row(j) =
                truth.expert_slope.row(i) + sd * z.segment(d + 1, d).transpose();
            // Biases that are not fitted stay at the truth's (the draw is still taken).
            init.expert_bias(j) =
                truth.expert_bias(i) + (settings.fit_expert_bias ? sd * z(2 * d + 1) : 0.0);
            init.variance(j) = truth.variance(i) * std::exp(sd * z(2 * d + 2));
        }
        init.temperature = truth.temperature * std::exp(sd * noise(k * per_expert));
        return init.last_gate_zero();
    }

    // k-means++ seeding on the rows (x_n, y_n), then at most 20 Lloyd iterations. Lloyd stops
    // early only when an iteration would change nothing, so this is the result of exactly 20.
    core::require(n >= k, "initial_params: k-means++ needs at least k samples");
    Eigen::MatrixXd points(n, d + 1);
    points.leftCols(d) = x;
    points.col(d) = y;
    const UniformDraw uniform = [&](std::uint32_t draw) {
        return rng.uniform_pair(source.job_id, restart, draw)[0];
    };
    const LloydResult clusters =
        lloyd(points, kmeans_pp_seeds(points, k, uniform),
              {.max_iterations = 20, .tolerance = 0.0, .row_order_sums = true});
    Eigen::MatrixXd resp = Eigen::MatrixXd::Zero(n, k);
    for (Eigen::Index m = 0; m < n; ++m)
        resp(m, clusters.labels[static_cast<std::size_t>(m)]) = 1.0;
    model::MoeParams init = model::MoeParams::zeros(k, d);
    const double y_var = (y.array() - y.mean()).square().mean();
    init.variance.setConstant(std::max(y_var, settings.variance_floor));
    // A softmax gate fitted to the labels: a top-K gate at its all-zero start would select
    // the same K experts everywhere and never see the others.
    m_step(model::SoftmaxGate(), x, y, resp, settings, init);
    return init;
}

EmResult fit_em(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                Eigen::Index k, const EmSettings& settings, const InitSource& source) {
    core::require(k >= 1 && x.rows() == y.size(), "fit_em: bad shapes");
    Eigen::MatrixXd resp;
    EmSettings init_settings = settings;
    init_settings.share_split_mass = settings.share_split_mass && gate.full_support();
    return impl::best_of_restarts<EmResult>(
        settings, "em log-likelihood",
        [&](std::uint32_t restart) {
            return initial_params(x, y, k, init_settings, source, restart);
        },
        [&](const model::MoeParams& params) {
            return e_step(gate, x, y, params, resp, settings.expert_mean);
        },
        [&](model::MoeParams& params) { m_step(gate, x, y, resp, settings, params); });
}

} // namespace moesim::fit
