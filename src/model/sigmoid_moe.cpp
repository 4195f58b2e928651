#include "moesim/model/sigmoid_moe.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <fmt/format.h>

#include <cmath>

namespace moesim::model {

namespace {

double sigmoid(double g) noexcept {
    return 1.0 / (1.0 + std::exp(-g));
}

// bias(i) + slope.row(i) x_m by a scalar loop (shape independent): the gate logit
// beta0 + beta1'x and the expert input b + a'x.
double affine(const Eigen::VectorXd& bias, const Eigen::MatrixXd& slope, Eigen::Index i,
              const Eigen::MatrixXd& x, Eigen::Index m) noexcept {
    double value = bias(i);
    for (Eigen::Index c = 0; c < slope.cols(); ++c)
        value += slope(i, c) * x(m, c);
    return value;
}

double gate_logit(const SigmoidMoeParams& p, Eigen::Index i, const Eigen::MatrixXd& x,
                  Eigen::Index m) noexcept {
    return affine(p.gate_bias, p.gate_slope, i, x, m);
}

double expert_input(const SigmoidMoeParams& p, Eigen::Index i, const Eigen::MatrixXd& x,
                    Eigen::Index m) noexcept {
    return affine(p.expert_bias, p.expert_slope, i, x, m);
}

double gelu_derivative(double z) noexcept {
    return 0.5 * (1.0 + std::erf(z * M_SQRT1_2)) + z * std::exp(-0.5 * z * z) * 0.5 * M_2_SQRTPI *
                                                          M_SQRT1_2;
}

} // namespace

std::vector<std::string> expert_kind_names() {
    return {"linear", "relu", "gelu", "polynomial"};
}

ExpertKind parse_expert_kind(std::string_view name) {
    if (name == "linear")
        return ExpertKind::linear;
    if (name == "relu")
        return ExpertKind::relu;
    if (name == "gelu")
        return ExpertKind::gelu;
    if (name == "polynomial")
        return ExpertKind::polynomial;
    throw core::InternalError(fmt::format("parse_expert_kind: unknown expert kind '{}'", name));
}

double ExpertFunction::value(double z) const noexcept {
    switch (kind) {
    case ExpertKind::linear:
        return z;
    case ExpertKind::relu:
        return z > 0.0 ? z : 0.0;
    case ExpertKind::gelu:
        return 0.5 * z * (1.0 + std::erf(z * M_SQRT1_2));
    case ExpertKind::polynomial: {
        double out = 1.0;
        for (int e = 0; e < degree; ++e)
            out *= z;
        return out;
    }
    }
    return 0.0;
}

double ExpertFunction::derivative(double z) const noexcept {
    switch (kind) {
    case ExpertKind::linear:
        return 1.0;
    case ExpertKind::relu:
        return z > 0.0 ? 1.0 : 0.0;
    case ExpertKind::gelu:
        return gelu_derivative(z);
    case ExpertKind::polynomial: {
        double out = static_cast<double>(degree);
        for (int e = 1; e < degree; ++e)
            out *= z;
        return out;
    }
    }
    return 0.0;
}

SigmoidMoeParams SigmoidMoeParams::zeros(Eigen::Index k, Eigen::Index d) {
    return {Eigen::MatrixXd::Zero(k, d), Eigen::VectorXd::Zero(k), Eigen::MatrixXd::Zero(k, d),
            Eigen::VectorXd::Zero(k)};
}

void SigmoidMoeParams::check() const {
    const Eigen::Index k = experts(), d = dim();
    core::require(k >= 1 && gate_slope.rows() == k && expert_slope.rows() == k &&
                      expert_slope.cols() == d && expert_bias.size() == k,
                  "SigmoidMoeParams: inconsistent block shapes");
    core::require(gate_slope.allFinite() && gate_bias.allFinite() && expert_slope.allFinite() &&
                      expert_bias.allFinite(),
                  "SigmoidMoeParams: non-finite parameter");
}

SigmoidMoeParams SigmoidMoeParams::permuted(const std::vector<Eigen::Index>& order) const {
    core::require(static_cast<Eigen::Index>(order.size()) == experts(),
                  "SigmoidMoeParams::permuted: order has the wrong length");
    SigmoidMoeParams out = *this;
    for (std::size_t j = 0; j < order.size(); ++j) {
        const auto to = static_cast<Eigen::Index>(j);
        out.gate_slope.row(to) = gate_slope.row(order[j]);
        out.gate_bias(to) = gate_bias(order[j]);
        out.expert_slope.row(to) = expert_slope.row(order[j]);
        out.expert_bias(to) = expert_bias(order[j]);
    }
    return out;
}

Eigen::VectorXd SigmoidMoeParams::pack() const {
    const Eigen::Index k = experts(), d = dim(), w = per_expert();
    Eigen::VectorXd out(k * w);
    for (Eigen::Index i = 0; i < k; ++i) {
        out(i * w) = gate_bias(i);
        out.segment(i * w + 1, d) = gate_slope.row(i).transpose();
        out(i * w + d + 1) = expert_bias(i);
        out.segment(i * w + d + 2, d) = expert_slope.row(i).transpose();
    }
    return out;
}

SigmoidMoeParams SigmoidMoeParams::unpack(const Eigen::VectorXd& packed, Eigen::Index k,
                                          Eigen::Index d) {
    const Eigen::Index w = 2 * d + 2;
    core::require(packed.size() == k * w, "SigmoidMoeParams::unpack: wrong packed size");
    SigmoidMoeParams out = zeros(k, d);
    for (Eigen::Index i = 0; i < k; ++i) {
        out.gate_bias(i) = packed(i * w);
        out.gate_slope.row(i) = packed.segment(i * w + 1, d).transpose();
        out.expert_bias(i) = packed(i * w + d + 1);
        out.expert_slope.row(i) = packed.segment(i * w + d + 2, d).transpose();
    }
    return out;
}

Eigen::VectorXd sigmoid_moe_mean(const ExpertFunction& expert, const SigmoidMoeParams& params,
                                 const Eigen::MatrixXd& x) {
    core::require(x.cols() == params.dim(), "sigmoid_moe_mean: input dimension differs");
    Eigen::VectorXd out(x.rows());
    for (Eigen::Index m = 0; m < x.rows(); ++m) {
        double f = 0.0;
        for (Eigen::Index i = 0; i < params.experts(); ++i)
            f += sigmoid(gate_logit(params, i, x, m)) * expert.value(expert_input(params, i, x, m));
        out(m) = f;
    }
    return out;
}

Eigen::MatrixXd sigmoid_moe_jacobian(const ExpertFunction& expert, const SigmoidMoeParams& params,
                                     const Eigen::MatrixXd& x) {
    core::require(x.cols() == params.dim(), "sigmoid_moe_jacobian: input dimension differs");
    const Eigen::Index n = x.rows(), k = params.experts(), d = params.dim();
    const Eigen::Index w = params.per_expert();
    Eigen::MatrixXd jac(n, k * w);
    for (Eigen::Index m = 0; m < n; ++m) {
        for (Eigen::Index i = 0; i < k; ++i) {
            const double s = sigmoid(gate_logit(params, i, x, m));
            const double u = expert_input(params, i, x, m);
            const double gate_part = s * (1.0 - s) * expert.value(u);
            const double expert_part = s * expert.derivative(u);
            jac(m, i * w) = gate_part;
            jac(m, i * w + d + 1) = expert_part;
            for (Eigen::Index c = 0; c < d; ++c) {
                jac(m, i * w + 1 + c) = gate_part * x(m, c);
                jac(m, i * w + d + 2 + c) = expert_part * x(m, c);
            }
        }
    }
    return jac;
}

Sample sample_sigmoid_moe(const ExpertFunction& expert, const SigmoidMoeParams& params,
                          double noise_variance, std::uint64_t seed, std::uint32_t job_id,
                          Eigen::Index n, double x_scale) {
    params.check();
    core::require(noise_variance >= 0.0, "sample_sigmoid_moe: negative noise variance");
    const core::Philox rng(seed, "rates.sigmoid.data");
    const Eigen::Index d = params.dim();
    const std::uint32_t x_draws = input_draws(d);
    Sample sample{draw_inputs(rng, job_id, n, d, x_scale), Eigen::VectorXd(n)};
    sample.y = sigmoid_moe_mean(expert, params, sample.x);
    const double sd = std::sqrt(noise_variance);
    for (Eigen::Index m = 0; m < n; ++m)
        sample.y(m) += sd * rng.normal_pair(static_cast<std::uint64_t>(m), job_id, x_draws)[0];
    return sample;
}

} // namespace moesim::model
