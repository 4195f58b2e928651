#pragma once
// The Gaussian mixture of experts of MODELS.md section 1, p(y | x) = sum_i G_i(x) N(y | a_i'x +
// b_i, nu_i), with a pluggable gate G, and its data generator. Parameters are plain matrices
// so fit/ (EM, Voronoi losses) can read and write them directly; data are pure functions of
// (seed, job id), so any rank can generate any (n, replicate) job of the rates experiment.
// Users: fit/em, fit/voronoi_loss, the rates experiment.

#include "moesim/core/philox.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// Parameters of a k-expert Gaussian MoE on inputs in R^d. Expert i: gate slope row
/// gate_slope.row(i) (beta1_i), gate bias gate_bias(i) (beta0_i), expert slope
/// expert_slope.row(i) (a_i), expert bias expert_bias(i) (b_i), variance variance(i) (nu_i),
/// and one temperature tau shared by all experts, read only by the temperature and activation
/// gates (model/tempered_gate.hpp); the other gates ignore it and fits leave it at 1.
struct MoeParams {
    Eigen::MatrixXd gate_slope;   ///< k x d
    Eigen::VectorXd gate_bias;    ///< k
    Eigen::MatrixXd expert_slope; ///< k x d
    Eigen::VectorXd expert_bias;  ///< k
    Eigen::VectorXd variance;     ///< k, positive
    double temperature = 1.0;     ///< tau > 0 (tempered gates only)

    /// k x d zeros (variance 1).
    static MoeParams zeros(Eigen::Index k, Eigen::Index d);
    Eigen::Index experts() const noexcept { return gate_bias.size(); }
    Eigen::Index dim() const noexcept { return gate_slope.cols(); }
    /// Throws InternalError unless every block has k rows and d columns, nu > 0 and tau > 0.
    void check() const;
    /// Copy with experts reordered: result expert j is this expert order[j].
    MoeParams permuted(const std::vector<Eigen::Index>& order) const;
    /// Copy with gate_slope.row(k-1) and gate_bias(k-1) subtracted from every expert's gate:
    /// softmax gates are identified only up to a common translation, and EM fixes the last
    /// expert's gate at 0.
    MoeParams last_gate_zero() const;
};

/// A gating function G(x) = (G_1(x), ..., G_k(x)). Gates added later (temperature,
/// activation, sigmoid, contaminated) implement this interface. Local; const and thread-safe.
class Gate {
public:
    virtual ~Gate() = default;
    /// The config name ("softmax").
    virtual std::string_view name() const = 0;
    /// log G_i(x_n) for each row x_n of `x` (n x d): an n x k matrix. Entries may be -inf for
    /// gates that switch experts off.
    virtual Eigen::MatrixXd log_weights(const MoeParams& params,
                                        const Eigen::MatrixXd& x) const = 0;
    /// True if every expert has positive weight at every x (softmax). Fitting uses it: with a
    /// fixed support the EM surrogate of the gate is smooth and concave; otherwise the gate
    /// step must be checked against the likelihood itself.
    virtual bool full_support() const = 0;
};

/// G_i(x) = softmax_i(beta1_i'x + beta0_i), computed as logits minus their log-sum-exp.
class SoftmaxGate final : public Gate {
public:
    std::string_view name() const override { return "softmax"; }
    Eigen::MatrixXd log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const override;
    bool full_support() const override { return true; }
};

/// Top-K sparse softmax: G_i(x) = softmax of the logits beta1_i'x + beta0_i over the K largest
/// logits at x (ties to the lower index), 0 for the other experts (log-weight -inf). With
/// K >= k it is the softmax gate.
class TopKGate final : public Gate {
public:
    /// Throws InternalError unless top_k >= 1.
    explicit TopKGate(Eigen::Index top_k);
    std::string_view name() const override { return "topk"; }
    Eigen::MatrixXd log_weights(const MoeParams& params, const Eigen::MatrixXd& x) const override;
    bool full_support() const override { return false; }
    Eigen::Index top_k() const noexcept { return top_k_; }

private:
    Eigen::Index top_k_;
};

/// Names accepted by make_gate, for config choices: only implemented gates are listed.
std::vector<std::string> gate_names();

/// The gate called `name`; `top_k` is K of the topk gate, `activation` sigma of the
/// activation gate (a name from activation_names(); each ignored by the other gates). Throws
/// InternalError for unknown names (configs are validated against gate_names() first).
std::unique_ptr<Gate> make_gate(std::string_view name, Eigen::Index top_k = 2,
                                std::string_view activation = "tanh");

/// Per-sample log N(y | a_i'x + b_i, nu_i): an n x k matrix. Local.
Eigen::MatrixXd expert_log_densities(const MoeParams& params, const Eigen::MatrixXd& x,
                                     const Eigen::VectorXd& y);

/// log p(y_n | x_n) for each sample, by a log-sum-exp over experts. Local.
Eigen::VectorXd log_density(const Gate& gate, const MoeParams& params, const Eigen::MatrixXd& x,
                            const Eigen::VectorXd& y);

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
/// N(a_i'x + b_i, nu_i). Philox stream (seed, "rates.data") with counter (sample id, job id,
/// draw): a pure function of (seed, job_id, n), and the first m samples of a job do not
/// depend on n. Local.
Sample sample_moe(const Gate& gate, const MoeParams& params, std::uint64_t seed,
                  std::uint32_t job_id, Eigen::Index n, double x_scale = 1.0);

} // namespace moesim::model
