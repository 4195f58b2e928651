#include "moesim/model/sigmoid_moe.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

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

// The softmax gate's pi_i and the experts' phi(u_i), phi'(u_i) at sample m (scalar loops).
void softmax_parts(const ExpertFunction& expert, const SigmoidMoeParams& p,
                   const Eigen::MatrixXd& x, Eigen::Index m, std::vector<double>& pi,
                   std::vector<double>& value, std::vector<double>& derivative) {
    const auto k = static_cast<std::size_t>(p.experts());
    pi.resize(k);
    value.resize(k);
    derivative.resize(k);
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < k; ++i) {
        pi[i] = gate_logit(p, static_cast<Eigen::Index>(i), x, m);
        top = std::max(top, pi[i]);
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
        pi[i] = std::exp(pi[i] - top);
        sum += pi[i];
    }
    for (std::size_t i = 0; i < k; ++i) {
        pi[i] /= sum;
        const double u = expert_input(p, static_cast<Eigen::Index>(i), x, m);
        value[i] = expert.value(u);
        derivative[i] = expert.derivative(u);
    }
}

} // namespace

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
                                 const Eigen::MatrixXd& x, RegressionGate gate) {
    core::require(x.cols() == params.dim(), "sigmoid_moe_mean: input dimension differs");
    Eigen::VectorXd out(x.rows());
    if (gate == RegressionGate::softmax) {
        std::vector<double> pi, value, derivative;
        for (Eigen::Index m = 0; m < x.rows(); ++m) {
            softmax_parts(expert, params, x, m, pi, value, derivative);
            double f = 0.0;
            for (std::size_t i = 0; i < pi.size(); ++i)
                f += pi[i] * value[i];
            out(m) = f;
        }
        return out;
    }
    for (Eigen::Index m = 0; m < x.rows(); ++m) {
        double f = 0.0;
        for (Eigen::Index i = 0; i < params.experts(); ++i)
            f += sigmoid(gate_logit(params, i, x, m)) * expert.value(expert_input(params, i, x, m));
        out(m) = f;
    }
    return out;
}

Eigen::MatrixXd sigmoid_moe_jacobian(const ExpertFunction& expert, const SigmoidMoeParams& params,
                                     const Eigen::MatrixXd& x, RegressionGate gate) {
    core::require(x.cols() == params.dim(), "sigmoid_moe_jacobian: input dimension differs");
    const Eigen::Index n = x.rows(), k = params.experts(), d = params.dim();
    const Eigen::Index w = params.per_expert();
    Eigen::MatrixXd jac(n, k * w);
    if (gate == RegressionGate::softmax) {
        std::vector<double> pi, value, derivative;
        for (Eigen::Index m = 0; m < n; ++m) {
            softmax_parts(expert, params, x, m, pi, value, derivative);
            double f = 0.0;
            for (std::size_t i = 0; i < pi.size(); ++i)
                f += pi[i] * value[i];
            for (Eigen::Index i = 0; i < k; ++i) {
                const auto si = static_cast<std::size_t>(i);
                const double gate_part = pi[si] * (value[si] - f);
                const double expert_part = pi[si] * derivative[si];
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
                          Eigen::Index n, double x_scale, RegressionGate gate) {
    params.check();
    core::require(noise_variance >= 0.0, "sample_sigmoid_moe: negative noise variance");
    const core::Philox rng(seed, "rates.sigmoid.data");
    const Eigen::Index d = params.dim();
    const std::uint32_t x_draws = input_draws(d);
    Sample sample{draw_inputs(rng, job_id, n, d, x_scale), Eigen::VectorXd(n)};
    sample.y = sigmoid_moe_mean(expert, params, sample.x, gate);
    const double sd = std::sqrt(noise_variance);
    for (Eigen::Index m = 0; m < n; ++m)
        sample.y(m) += sd * rng.normal_pair(static_cast<std::uint64_t>(m), job_id, x_draws)[0];
    return sample;
}

} // namespace moesim::model
