#pragma once
// The Gaussian mixture of experts of MODELS.md section 1, p(y | x) = sum_i G_i(x) N(y | a_i'x +
// b_i, nu_i), with a pluggable gate G, and its data generator. Parameters are plain matrices
// so fit/ (EM, Voronoi losses) can read and write them directly; data are pure functions of
// (seed, job id), so any rank can generate any (n, replicate) job of the rates experiment.
// Users: fit/em, fit/voronoi_loss, the rates experiment.

#include "moesim/core/philox.hpp"
#include "moesim/model/expert_function.hpp"
#include "moesim/model/gate.hpp"
#include "moesim/model/moe_params.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// Per-sample log N(y | phi(a_i'x + b_i), nu_i): an n x k matrix, phi = `mean` (rates.expert_mean;
/// the identity by default, computed exactly as before phi existed). Local.
Eigen::MatrixXd expert_log_densities(const MoeParams& params, const Eigen::MatrixXd& x,
                                     const Eigen::VectorXd& y, const ExpertFunction& mean = {});

/// log p(y_n | x_n) for each sample, by a log-sum-exp over experts. Local.
Eigen::VectorXd log_density(const Gate& gate, const MoeParams& params, const Eigen::MatrixXd& x,
                            const Eigen::VectorXd& y, const ExpertFunction& mean = {});

/// One sample set: inputs (n x d) and responses (n).
struct Sample {
    Eigen::MatrixXd x;
    Eigen::VectorXd y;
};

/// The input stream every rates model shares: row m is x_m = x_scale * z_m, z_m ~ N(0, I_d)
/// from `rng` with counter (m, job id, draws 0 .. input_draws(d) - 1), so row m does not
/// depend on n. Local.
Eigen::MatrixXd draw_inputs(const core::Philox& rng, std::uint32_t job_id, Eigen::Index n,
                            Eigen::Index d, double x_scale);
/// Philox draws an input of dimension d uses; a sample's other draws start at this index.
constexpr std::uint32_t input_draws(Eigen::Index d) noexcept {
    return static_cast<std::uint32_t>((d + 1) / 2);
}

/// Draws n samples of the MoE: x = x_scale * z with z ~ N(0, I_d), expert i ~ G(x), y ~
/// N(phi(a_i'x + b_i), nu_i). Philox stream (seed, "rates.data") with counter (sample id, job id,
/// draw): a pure function of (seed, job_id, n), and the first m samples of a job do not
/// depend on n. Local.
Sample sample_moe(const Gate& gate, const MoeParams& params, std::uint64_t seed,
                  std::uint32_t job_id, Eigen::Index n, double x_scale = 1.0,
                  const ExpertFunction& mean = {});

} // namespace moesim::model
