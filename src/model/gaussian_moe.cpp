#include "moesim/model/gaussian_moe.hpp"

#include "moesim/core/error.hpp"
#include "moesim/model/row_exp.hpp"
#include "moesim/model/tempered_gate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

namespace moesim::model {

MoeParams MoeParams::zeros(Eigen::Index k, Eigen::Index d) {
    return {Eigen::MatrixXd::Zero(k, d), Eigen::VectorXd::Zero(k), Eigen::MatrixXd::Zero(k, d),
            Eigen::VectorXd::Zero(k), Eigen::VectorXd::Ones(k), 1.0};
}

void MoeParams::check() const {
    const Eigen::Index k = experts(), d = dim();
    if (k < 1 || gate_slope.rows() != k || expert_slope.rows() != k || expert_slope.cols() != d ||
        expert_bias.size() != k || variance.size() != k)
        throw core::InternalError(
            fmt::format("MoeParams: inconsistent shapes (gate {}x{}, bias {}, experts {}x{}, {}, "
                        "variance {})",
                        gate_slope.rows(), gate_slope.cols(), gate_bias.size(), expert_slope.rows(),
                        expert_slope.cols(), expert_bias.size(), variance.size()));
    if (!(variance.array() > 0.0).all())
        throw core::InternalError("MoeParams: variances must be positive");
    if (!(temperature > 0.0))
        throw core::InternalError("MoeParams: the temperature must be positive");
}

MoeParams MoeParams::permuted(const std::vector<Eigen::Index>& order) const {
    core::require(static_cast<Eigen::Index>(order.size()) == experts(),
                  "MoeParams::permuted: order must list every expert");
    MoeParams out = *this;
    for (Eigen::Index j = 0; j < experts(); ++j) {
        const Eigen::Index from = order[static_cast<std::size_t>(j)];
        out.gate_slope.row(j) = gate_slope.row(from);
        out.gate_bias(j) = gate_bias(from);
        out.expert_slope.row(j) = expert_slope.row(from);
        out.expert_bias(j) = expert_bias(from);
        out.variance(j) = variance(from);
    }
    return out;
}

MoeParams MoeParams::last_gate_zero() const {
    MoeParams out = *this;
    const Eigen::Index last = experts() - 1;
    const Eigen::RowVectorXd slope = gate_slope.row(last);
    const double bias = gate_bias(last);
    out.gate_slope.rowwise() -= slope;
    out.gate_bias.array() -= bias;
    return out;
}

Eigen::MatrixXd SoftmaxGate::log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const {
    Eigen::MatrixXd logits = x * params.gate_slope.transpose();
    logits.rowwise() += params.gate_bias.transpose();
    log_softmax_rows(logits);
    return logits;
}

TopKGate::TopKGate(Eigen::Index top_k) : top_k_(top_k) {
    core::require(top_k >= 1, "TopKGate: K must be at least 1");
}

Eigen::MatrixXd TopKGate::log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const {
    const Eigen::Index k = params.experts();
    if (top_k_ >= k)
        return SoftmaxGate().log_weights(params, x);
    Eigen::MatrixXd logits = x * params.gate_slope.transpose();
    logits.rowwise() += params.gate_bias.transpose();
    // Expert i is in a sample's top-K set if fewer than K experts come before it: those with
    // a larger logit, or an equal one and a lower index (ties go to the lower index). Counted
    // column by column, O(n k^2) but vectorised over samples, which beats a sort per sample
    // for the small k of the rates experiment.
    const Eigen::Index n = logits.rows();
    std::vector<Eigen::ArrayXd> selected(static_cast<std::size_t>(k)); // 1 in the set, else 0
    for (Eigen::Index i = 0; i < k; ++i) {
        Eigen::ArrayXi ahead = Eigen::ArrayXi::Zero(n);
        for (Eigen::Index j = 0; j < k; ++j) {
            if (j < i)
                ahead += (logits.col(j).array() >= logits.col(i).array()).cast<int>();
            else if (j > i)
                ahead += (logits.col(j).array() > logits.col(i).array()).cast<int>();
        }
        selected[static_cast<std::size_t>(i)] = (ahead < static_cast<int>(top_k_)).cast<double>();
    }
    const Eigen::ArrayXd max = row_max(logits); // the largest logit is always selected
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(n);
    for (Eigen::Index i = 0; i < k; ++i)
        sum += (logits.col(i).array() - max).exp() * selected[static_cast<std::size_t>(i)];
    const Eigen::ArrayXd log_norm = max + sum.log();
    constexpr double off = -std::numeric_limits<double>::infinity();
    for (Eigen::Index i = 0; i < k; ++i)
        logits.col(i).array() =
            (selected[static_cast<std::size_t>(i)] > 0.0).select(logits.col(i).array() - log_norm,
                                                                 off);
    return logits;
}

std::vector<std::string> gate_names() {
    return {"softmax", "topk", "temperature", "activation"};
}

std::unique_ptr<Gate> make_gate(std::string_view name, Eigen::Index top_k,
                                std::string_view activation) {
    if (name == "temperature")
        return std::make_unique<TemperatureGate>();
    if (name == "activation")
        return std::make_unique<ActivationGate>(parse_activation(activation));
    if (name == "softmax")
        return std::make_unique<SoftmaxGate>();
    if (name == "topk")
        return std::make_unique<TopKGate>(top_k);
    throw core::InternalError(fmt::format("make_gate: unknown gate '{}'", name));
}

Eigen::MatrixXd expert_log_densities(const MoeParams& params, const Eigen::MatrixXd& x,
                                     const Eigen::VectorXd& y) {
    Eigen::MatrixXd mean = x * params.expert_slope.transpose();
    mean.rowwise() += params.expert_bias.transpose();
    const Eigen::MatrixXd resid = (-mean).colwise() + y;
    const Eigen::RowVectorXd inv_var = params.variance.cwiseInverse().transpose();
    const Eigen::RowVectorXd log_norm =
        (-0.5 * (2.0 * std::numbers::pi * params.variance.array()).log()).matrix().transpose();
    Eigen::MatrixXd out = -0.5 * resid.array().square().matrix() * inv_var.asDiagonal();
    out.rowwise() += log_norm;
    return out;
}

Eigen::VectorXd log_density(const Gate& gate, const MoeParams& params, const Eigen::MatrixXd& x,
                            const Eigen::VectorXd& y) {
    Eigen::MatrixXd joint = gate.log_weights(params, x) + expert_log_densities(params, x, y);
    const ShiftedExp rows = exponentiate_rows(joint);
    return (rows.max + rows.sum.log()).matrix();
}

Eigen::MatrixXd draw_inputs(const core::Philox& rng, std::uint32_t job_id, Eigen::Index n,
                            Eigen::Index d, double x_scale) {
    Eigen::MatrixXd x(n, d);
    Eigen::VectorXd z(d);
    for (Eigen::Index m = 0; m < n; ++m) {
        rng.fill_normal(static_cast<std::uint64_t>(m), job_id,
                        std::span<double>(z.data(), static_cast<std::size_t>(d)));
        x.row(m) = (x_scale * z).transpose();
    }
    return x;
}

Sample sample_moe(const Gate& gate, const MoeParams& params, std::uint64_t seed,
                  std::uint32_t job_id, Eigen::Index n, double x_scale) {
    params.check();
    const core::Philox rng(seed, "rates.data");
    const Eigen::Index d = params.dim(), k = params.experts();
    const std::uint32_t draw = input_draws(d);
    Sample sample{draw_inputs(rng, job_id, n, d, x_scale), Eigen::VectorXd(n)};
    // One sample at a time (a 1 x d input), so sample m never depends on n: Eigen picks its
    // kernels by shape.
    for (Eigen::Index m = 0; m < n; ++m) {
        const auto id = static_cast<std::uint64_t>(m);
        const Eigen::MatrixXd xm = sample.x.row(m);
        const Eigen::RowVectorXd log_g = gate.log_weights(params, xm);
        const double u = rng.uniform_pair(id, job_id, draw)[0];
        Eigen::Index expert = k - 1;
        double cumulative = 0.0;
        for (Eigen::Index i = 0; i < k; ++i) {
            cumulative += std::exp(log_g(i));
            if (u < cumulative) {
                expert = i;
                break;
            }
        }
        const double noise = rng.normal_pair(id, job_id, draw + 1)[0];
        double mean = params.expert_bias(expert);
        for (Eigen::Index c = 0; c < d; ++c)
            mean += params.expert_slope(expert, c) * xm(0, c);
        sample.y(m) = mean + std::sqrt(params.variance(expert)) * noise;
    }
    return sample;
}

} // namespace moesim::model
