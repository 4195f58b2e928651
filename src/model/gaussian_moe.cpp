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

Eigen::MatrixXd expert_log_densities(const MoeParams& params, const Eigen::MatrixXd& x,
                                     const Eigen::VectorXd& y, const ExpertFunction& phi) {
    Eigen::MatrixXd mean = x * params.expert_slope.transpose();
    mean.rowwise() += params.expert_bias.transpose();
    if (!phi.linear())
        mean = mean.unaryExpr([&phi](double u) { return phi.value(u); });
    const Eigen::MatrixXd resid = (-mean).colwise() + y;
    const Eigen::RowVectorXd inv_var = params.variance.cwiseInverse().transpose();
    const Eigen::RowVectorXd log_norm =
        (-0.5 * (2.0 * std::numbers::pi * params.variance.array()).log()).matrix().transpose();
    Eigen::MatrixXd out = -0.5 * resid.array().square().matrix() * inv_var.asDiagonal();
    out.rowwise() += log_norm;
    return out;
}

Eigen::VectorXd log_density(const Gate& gate, const MoeParams& params, const Eigen::MatrixXd& x,
                            const Eigen::VectorXd& y, const ExpertFunction& phi) {
    Eigen::MatrixXd joint = gate.log_weights(params, x) + expert_log_densities(params, x, y, phi);
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
                  std::uint32_t job_id, Eigen::Index n, double x_scale,
                  const ExpertFunction& phi) {
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
        if (!phi.linear())
            mean = phi.value(mean);
        sample.y(m) = mean + std::sqrt(params.variance(expert)) * noise;
    }
    return sample;
}

} // namespace moesim::model
