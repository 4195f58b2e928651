#pragma once
// The prompt gate of contaminated mixtures of experts (MODELS.md section 1): the weight s(x)
// of the trainable prompt expert beside the fixed pre-trained one, constant (gate
// "contaminated") or sigmoid(beta'x + tau), the softmax over {f0, prompt} with f0's logit
// fixed at 0 (gate "softmax_contaminated"). Its log-weights for a sample set are
// contaminated_log_weights (model/contaminated_moe.hpp). Users: model/contaminated_moe,
// fit/contaminated_em.

#include <cmath>

namespace moesim::model {

/// How the prompt's weight depends on x.
enum class PromptGate {
    constant, ///< s(x) = mixing (rates.gate = "contaminated")
    softmax,  ///< s(x) = sigmoid(gate_slope'x + gate_bias) (rates.gate = "softmax_contaminated")
};

/// log sigmoid(t) = -log(1 + exp(-t)), without overflow for either sign of t; the prompt's
/// log-weight under the softmax gate (and log(1 - s) = log_sigmoid(-t)). Local.
inline double log_sigmoid(double t) noexcept {
    return t >= 0.0 ? -std::log1p(std::exp(-t)) : t - std::log1p(std::exp(t));
}

/// Both log-weights {log_sigmoid(-t), log_sigmoid(t)} from one exp and one log1p: the two
/// share log(1 + exp(-|t|)), and the results are bitwise those of the two calls. Local.
struct LogSigmoidPair {
    double negative; ///< log_sigmoid(-t) = log(1 - s)
    double positive; ///< log_sigmoid(t) = log s
};
inline LogSigmoidPair log_sigmoid_pair(double t) noexcept {
    const double shared = std::log1p(std::exp(-std::abs(t)));
    return {t <= 0.0 ? -shared : -t - shared, t >= 0.0 ? -shared : t - shared};
}

} // namespace moesim::model
