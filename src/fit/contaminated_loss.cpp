#include "moesim/fit/contaminated_loss.hpp"

#include <cmath>

namespace moesim::fit {

std::vector<std::string> contaminated_loss_names(model::PromptGate gate) {
    if (gate == model::PromptGate::constant)
        return {"combined", "mixing", "prompt_slope", "prompt_bias", "prompt_variance"};
    return {"combined",    "gate_slope",      "gate_bias",    "prompt_slope",
            "prompt_bias", "prompt_variance", "gate_bias_exp"};
}

std::vector<double> contaminated_losses(model::PromptGate gate,
                                        const model::ContaminatedParams& fitted,
                                        const model::ContaminatedParams& truth) {
    const double slope = (fitted.prompt_slope - truth.prompt_slope).norm();
    const double bias = std::abs(fitted.prompt_bias - truth.prompt_bias);
    const double variance = std::abs(fitted.prompt_variance - truth.prompt_variance);
    const double prompt = std::sqrt(slope * slope + bias * bias + variance * variance);
    if (gate == model::PromptGate::constant) {
        const double mixing = std::abs(fitted.mixing - truth.mixing);
        return {mixing + fitted.mixing * prompt, mixing, slope, bias, variance};
    }
    const double gate_slope = (fitted.gate_slope - truth.gate_slope).norm();
    const double gate_bias = std::abs(fitted.gate_bias - truth.gate_bias);
    // arXiv 2505.18455 reports the error of exp(tau), the prompt's odds at x = 0.
    const double gate_bias_exp = std::abs(std::exp(fitted.gate_bias) - std::exp(truth.gate_bias));
    return {gate_slope + gate_bias + prompt, gate_slope, gate_bias, slope, bias, variance,
            gate_bias_exp};
}

} // namespace moesim::fit
