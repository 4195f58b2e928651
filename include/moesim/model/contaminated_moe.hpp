#pragma once
// Contaminated mixtures of experts (MODELS.md section 1): a fixed, known "pre-trained" expert
// f0 plus one trainable Gaussian "prompt" expert,
//   p(y | x) = (1 - s(x)) f0(y | x) + s(x) N(y | a'x + b, nu),
// with a constant prompt weight s(x) = lambda (gate "contaminated", arXiv 2410.12258) or
// s(x) = sigmoid(beta'x + tau), the softmax over {f0, prompt} with f0's logit fixed at 0
// (gate "softmax_contaminated", arXiv 2505.18455). f0 is Gaussian N(y | a0'x + b0, nu0) or
// Laplace with location a0'x + b0 and scale s0. Data are pure functions of (seed, job id).
// Users: fit/contaminated_em, fit/contaminated_loss, the rates experiment.

#include "moesim/model/expert_function.hpp"
#include "moesim/model/gaussian_moe.hpp"
#include "moesim/model/prompt_gate.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// The family of the pre-trained expert.
enum class PretrainedFamily { gaussian, laplace };

/// "gaussian", "laplace".
std::vector<std::string> pretrained_family_names();
/// Throws InternalError for names not in pretrained_family_names().
PretrainedFamily parse_pretrained_family(std::string_view name);

/// The fixed expert f0: location phi0(slope'x + bias) (phi0 = `mean`, rates.f0_mean; the
/// identity by default); scale is the variance nu0 (Gaussian) or the Laplace scale s0
/// (density exp(-|y - m| / s0) / (2 s0), variance 2 s0^2).
struct PretrainedExpert {
    PretrainedFamily family = PretrainedFamily::gaussian;
    Eigen::VectorXd slope; ///< d
    double bias = 0.0;
    double scale = 1.0; ///< positive
    ExpertFunction mean;

    /// The variance of f0's noise: nu0 (Gaussian) or 2 s0^2 (Laplace).
    double variance() const noexcept {
        return family == PretrainedFamily::gaussian ? scale : 2.0 * scale * scale;
    }

    /// log f0(y_m | x_m) for each sample. Local.
    Eigen::VectorXd log_density(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) const;
};

/// Parameters of the trainable part. A constant gate reads only `mixing`; a softmax gate
/// reads only gate_slope and gate_bias.
struct ContaminatedParams {
    double mixing = 0.5;          ///< lambda in (0, 1)
    Eigen::VectorXd gate_slope;   ///< beta, d
    double gate_bias = 0.0;       ///< tau
    Eigen::VectorXd prompt_slope; ///< a, d
    double prompt_bias = 0.0;     ///< b
    double prompt_variance = 1.0; ///< nu > 0

    /// d-dimensional zeros, mixing 1/2 and variance 1.
    static ContaminatedParams zeros(Eigen::Index d);
    Eigen::Index dim() const noexcept { return prompt_slope.size(); }
};

/// log s(x_m) and log(1 - s(x_m)) for each sample (n x 2: column 0 f0, column 1 the prompt),
/// computed stably (log-sigmoid) for the softmax gate. Local.
Eigen::MatrixXd contaminated_log_weights(PromptGate gate, const ContaminatedParams& params,
                                         const Eigen::MatrixXd& x);

/// log f0(y|x) and log N(y | phi(a'x + b), nu) for each sample (n x 2, columns as above);
/// phi = `prompt_mean` (rates.expert_mean). Local.
Eigen::MatrixXd contaminated_component_log_densities(const PretrainedExpert& f0,
                                                     const ContaminatedParams& params,
                                                     const Eigen::MatrixXd& x,
                                                     const Eigen::VectorXd& y,
                                                     const ExpertFunction& prompt_mean = {});

/// log p(y_m | x_m) for each sample. Local.
Eigen::VectorXd contaminated_log_density(PromptGate gate, const PretrainedExpert& f0,
                                         const ContaminatedParams& params, const Eigen::MatrixXd& x,
                                         const Eigen::VectorXd& y,
                                         const ExpertFunction& prompt_mean = {});

/// Draws n samples: x = x_scale * z, z ~ N(0, I_d); the prompt with probability s(x), else f0;
/// y from the chosen expert (Laplace by inverse CDF). Philox stream (seed,
/// "rates.contaminated.data") with counter (sample id, job id, draw): a pure function of
/// (seed, job_id, n), and the first m samples of a job do not depend on n. Local.
Sample sample_contaminated(PromptGate gate, const PretrainedExpert& f0,
                           const ContaminatedParams& params, std::uint64_t seed,
                           std::uint32_t job_id, Eigen::Index n, double x_scale = 1.0,
                           const ExpertFunction& prompt_mean = {});

} // namespace moesim::model
