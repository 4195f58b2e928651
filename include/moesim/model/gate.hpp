#pragma once
// Gates of the mixture-of-experts models of MODELS.md section 1, reachable from here:
// - the Gate interface (log G_i(x) of a Gaussian MoE) with the softmax and top-K gates (this
//   header), and the temperature and activation gates (model/tempered_gate.hpp); make_gate
//   builds any of them by its config name;
// - the sigmoid gate of least-squares MoE regression, sigma(beta1_i'x + beta0_i), evaluated
//   with its experts by model/sigmoid_moe.hpp;
// - the prompt gate of contaminated MoEs, constant or sigmoid(beta'x + tau)
//   (model/prompt_gate.hpp; its log-weights in model/contaminated_moe.hpp).
// Users: model/gaussian_moe, fit/em, the rates experiment.

#include "moesim/model/moe_params.hpp"

#include <Eigen/Core>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

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

} // namespace moesim::model
