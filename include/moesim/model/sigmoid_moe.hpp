#pragma once
// The sigmoid-gated mixture-of-experts regression of MODELS.md section 1 (gate `sigmoid`),
// after Nguyen, Ho & Rinaldo, "Sigmoid gating is more sample efficient than softmax gating in
// mixture of experts" (NeurIPS 2024, arXiv 2405.13997):
//   y = f(x) + eps,   f(x) = sum_i sigma(beta1_i'x + beta0_i) h(x, eta_i),   eps ~ N(0, nu),
// with independent (not normalised) sigmoid gates and experts h(x, (a, b)) = phi(a'x + b),
// phi the identity (linear), ReLU, GELU or z^p (polynomial). Unlike softmax gates, sigmoid
// gates are not translation invariant, so every parameter is identified directly.
// Inputs are x = x_scale * z, z ~ N(0, I_d), as in the Gaussian MoE of the rates experiment
// (the paper takes x from a bounded set; that only matters for its proofs).
// Parameters pack expert by expert as (beta0_i, beta1_i, b_i, a_i), 2d + 2 values each, the
// layout of the least-squares fit (fit/least_squares). Users: fit/least_squares,
// fit/sigmoid_voronoi_loss, the rates experiment.

#include "moesim/model/expert_function.hpp"
#include "moesim/model/gaussian_moe.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// The gate of the regression: independent sigmoids sigma(beta1_i'x + beta0_i) (rates.gate =
/// "sigmoid"), or softmax_i(beta1'x + beta0) over the experts (rates.gate =
/// "softmax_regression", arXiv 2405.13997's comparison), translation invariant like every
/// softmax gate. Both draw the same inputs and noise from the same Philox stream, so one
/// truth gives the two gates the same x and the same noise.
enum class RegressionGate { sigmoid, softmax };

/// Parameters of a k-expert sigmoid MoE on inputs in R^d: row i of each block is expert i.
struct SigmoidMoeParams {
    Eigen::MatrixXd gate_slope;   ///< k x d, beta1
    Eigen::VectorXd gate_bias;    ///< k, beta0
    Eigen::MatrixXd expert_slope; ///< k x d, a
    Eigen::VectorXd expert_bias;  ///< k, b

    static SigmoidMoeParams zeros(Eigen::Index k, Eigen::Index d);
    Eigen::Index experts() const noexcept { return gate_bias.size(); }
    Eigen::Index dim() const noexcept { return gate_slope.cols(); }
    /// Values per expert in the packed layout: 2d + 2.
    Eigen::Index per_expert() const noexcept { return 2 * dim() + 2; }
    /// Throws InternalError unless every block has k rows and d columns and all are finite.
    void check() const;
    /// Copy with experts reordered: result expert j is this expert order[j].
    SigmoidMoeParams permuted(const std::vector<Eigen::Index>& order) const;
    /// Expert by expert (beta0_i, beta1_i, b_i, a_i).
    Eigen::VectorXd pack() const;
    /// Inverse of pack(); throws InternalError unless packed.size() == k (2d + 2).
    static SigmoidMoeParams unpack(const Eigen::VectorXd& packed, Eigen::Index k, Eigen::Index d);
};

/// f(x_m) for each row of x (n x d). Computed sample by sample with scalar loops, so a row's
/// value never depends on n or on which rows are computed with it. Local.
Eigen::VectorXd sigmoid_moe_mean(const ExpertFunction& expert, const SigmoidMoeParams& params,
                                 const Eigen::MatrixXd& x,
                                 RegressionGate gate = RegressionGate::sigmoid);

/// d f(x_m) / d packed parameters: an n x k(2d + 2) matrix, analytic (sample by sample as
/// above). With s = sigma(g), g = beta0 + beta1'x, u = b + a'x: df/dbeta0 = s(1-s) phi(u),
/// df/dbeta1 = s(1-s) phi(u) x, df/db = s phi'(u), df/da = s phi'(u) x. Softmax gate with
/// pi = softmax(g): df/dbeta0_i = pi_i (phi(u_i) - f), df/dbeta1_i = the same times x, df/db_i
/// = pi_i phi'(u_i), df/da_i = the same times x. Local.
Eigen::MatrixXd sigmoid_moe_jacobian(const ExpertFunction& expert, const SigmoidMoeParams& params,
                                     const Eigen::MatrixXd& x,
                                     RegressionGate gate = RegressionGate::sigmoid);

/// Draws n samples: x = x_scale * z, z ~ N(0, I_d), y = f(x) + sqrt(noise_variance) * e.
/// Philox stream (seed, "rates.sigmoid.data"), counter (sample id, job id, draw): a pure
/// function of (seed, job_id, n), and the first m samples do not depend on n. Local.
Sample sample_sigmoid_moe(const ExpertFunction& expert, const SigmoidMoeParams& params,
                          double noise_variance, std::uint64_t seed, std::uint32_t job_id,
                          Eigen::Index n, double x_scale = 1.0,
                          RegressionGate gate = RegressionGate::sigmoid);

} // namespace moesim::model
