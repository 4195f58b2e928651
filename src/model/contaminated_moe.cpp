#include "moesim/model/contaminated_moe.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/model/row_exp.hpp"

#include <cmath>
#include <numbers>

namespace moesim::model {

std::vector<std::string> pretrained_family_names() {
    return {"gaussian", "laplace"};
}

PretrainedFamily parse_pretrained_family(std::string_view name) {
    if (name == "gaussian")
        return PretrainedFamily::gaussian;
    if (name == "laplace")
        return PretrainedFamily::laplace;
    throw core::InternalError("unknown pre-trained expert family");
}

Eigen::VectorXd PretrainedExpert::log_density(const Eigen::MatrixXd& x,
                                              const Eigen::VectorXd& y) const {
    core::require(scale > 0.0 && slope.size() == x.cols(), "PretrainedExpert: bad shape or scale");
    // The linear form keeps its original rounding, y - x a0 - b0.
    Eigen::VectorXd resid;
    if (mean.linear())
        resid = (y - x * slope).array() - bias;
    else
        resid = y - ((x * slope).array() + bias).matrix().unaryExpr([this](double u) {
            return mean.value(u);
        });
    if (family == PretrainedFamily::gaussian)
        return (-0.5 * std::log(2.0 * std::numbers::pi * scale) -
                0.5 * resid.array().square() / scale)
            .matrix();
    return (-std::log(2.0 * scale) - resid.array().abs() / scale).matrix();
}

ContaminatedParams ContaminatedParams::zeros(Eigen::Index d) {
    ContaminatedParams p;
    p.gate_slope = Eigen::VectorXd::Zero(d);
    p.prompt_slope = Eigen::VectorXd::Zero(d);
    return p;
}

Eigen::MatrixXd contaminated_log_weights(PromptGate gate, const ContaminatedParams& params,
                                         const Eigen::MatrixXd& x) {
    const Eigen::Index n = x.rows();
    Eigen::MatrixXd out(n, 2);
    if (gate == PromptGate::constant) {
        core::require(params.mixing > 0.0 && params.mixing < 1.0,
                      "contaminated gate: mixing must lie in (0, 1)");
        out.col(0).setConstant(std::log1p(-params.mixing));
        out.col(1).setConstant(std::log(params.mixing));
        return out;
    }
    const Eigen::VectorXd logit = x * params.gate_slope;
    for (Eigen::Index m = 0; m < n; ++m) {
        const double t = logit(m) + params.gate_bias;
        const LogSigmoidPair w = log_sigmoid_pair(t); // one exp and log1p for both
        out(m, 0) = w.negative;
        out(m, 1) = w.positive;
    }
    return out;
}

Eigen::MatrixXd contaminated_component_log_densities(const PretrainedExpert& f0,
                                                     const ContaminatedParams& params,
                                                     const Eigen::MatrixXd& x,
                                                     const Eigen::VectorXd& y,
                                                     const ExpertFunction& phi) {
    core::require(params.prompt_variance > 0.0, "contaminated model: prompt variance must be > 0");
    Eigen::MatrixXd out(x.rows(), 2);
    out.col(0) = f0.log_density(x, y);
    Eigen::VectorXd resid;
    if (phi.linear())
        resid = (y - x * params.prompt_slope).array() - params.prompt_bias;
    else
        resid = y - ((x * params.prompt_slope).array() + params.prompt_bias)
                        .matrix()
                        .unaryExpr([&phi](double u) { return phi.value(u); });
    out.col(1) = (-0.5 * std::log(2.0 * std::numbers::pi * params.prompt_variance) -
                  0.5 * resid.array().square() / params.prompt_variance)
                     .matrix();
    return out;
}

Eigen::VectorXd contaminated_log_density(PromptGate gate, const PretrainedExpert& f0,
                                         const ContaminatedParams& params, const Eigen::MatrixXd& x,
                                         const Eigen::VectorXd& y, const ExpertFunction& phi) {
    Eigen::MatrixXd joint = contaminated_log_weights(gate, params, x) +
                            contaminated_component_log_densities(f0, params, x, y, phi);
    const ShiftedExp rows = exponentiate_rows(joint);
    return (rows.max + rows.sum.log()).matrix();
}

Sample sample_contaminated(PromptGate gate, const PretrainedExpert& f0,
                           const ContaminatedParams& params, std::uint64_t seed,
                           std::uint32_t job_id, Eigen::Index n, double x_scale,
                           const ExpertFunction& phi) {
    const Eigen::Index d = params.dim();
    core::require(f0.slope.size() == d &&
                      (gate == PromptGate::constant || params.gate_slope.size() == d),
                  "sample_contaminated: parameter dimensions differ");
    const core::Philox rng(seed, "rates.contaminated.data");
    const std::uint32_t x_draws = input_draws(d);
    Sample sample{draw_inputs(rng, job_id, n, d, x_scale), Eigen::VectorXd(n)};
    // One sample at a time with scalar loops, so sample m never depends on n.
    for (Eigen::Index m = 0; m < n; ++m) {
        const auto id = static_cast<std::uint64_t>(m);
        double logit = params.gate_bias, prompt_mean = params.prompt_bias, f0_mean = f0.bias;
        for (Eigen::Index c = 0; c < d; ++c) {
            const double xc = sample.x(m, c);
            if (gate == PromptGate::softmax)
                logit += params.gate_slope(c) * xc;
            prompt_mean += params.prompt_slope(c) * xc;
            f0_mean += f0.slope(c) * xc;
        }
        if (!phi.linear())
            prompt_mean = phi.value(prompt_mean);
        if (!f0.mean.linear())
            f0_mean = f0.mean.value(f0_mean);
        const double weight =
            gate == PromptGate::constant ? params.mixing : std::exp(log_sigmoid(logit));
        const auto u = rng.uniform_pair(id, job_id, x_draws);
        if (u[0] < weight) {
            const double noise = rng.normal_pair(id, job_id, x_draws + 1)[0];
            sample.y(m) = prompt_mean + std::sqrt(params.prompt_variance) * noise;
        } else if (f0.family == PretrainedFamily::gaussian) {
            const double noise = rng.normal_pair(id, job_id, x_draws + 1)[0];
            sample.y(m) = f0_mean + std::sqrt(f0.scale) * noise;
        } else {
            // Laplace by inverse CDF of the second uniform v in (0, 1).
            const double v = u[1] - 0.5;
            sample.y(m) =
                f0_mean - f0.scale * std::copysign(1.0, v) * std::log1p(-2.0 * std::abs(v));
        }
    }
    return sample;
}

} // namespace moesim::model
