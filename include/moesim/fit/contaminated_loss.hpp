#pragma once
// Losses between a fitted and a true contaminated MoE (model/contaminated_moe.hpp): the
// per-parameter errors the papers bound, and one combined loss each.
//   contaminated (arXiv 2410.12258): |lambda^ - lambda*| + lambda^ |eta^ - eta*|, eta = (a, b, nu):
//     the prompt's error weighted by its mass, so it keeps n^-1/2 when lambda* -> 0 while
//     |eta^ - eta*| alone slows to n^-1/2 / lambda*.
//   softmax_contaminated (arXiv 2505.18455): |beta^ - beta*| + |tau^ - tau*| + |eta^ - eta*|,
//     n^-1/2 under distinguishability; all parts slow down as the prompt merges into f0.
// There is one prompt and no relabelling, so no Voronoi cells are needed. Users: rates.

#include "moesim/model/contaminated_moe.hpp"

#include <string>
#include <vector>

namespace moesim::fit {

/// constant gate: {combined, mixing, prompt_slope, prompt_bias, prompt_variance};
/// softmax gate: {combined, gate_slope, gate_bias, prompt_slope, prompt_bias, prompt_variance,
/// gate_bias_exp}, the last |exp(tau^) - exp(tau*)| (the error arXiv 2505.18455 reports).
std::vector<std::string> contaminated_loss_names(model::PromptGate gate);

/// The losses in the order of contaminated_loss_names(gate): Euclidean norms for slopes,
/// absolute values for scalars. Zero exactly when the fitted free parameters equal the true
/// ones. Local.
std::vector<double> contaminated_losses(model::PromptGate gate,
                                        const model::ContaminatedParams& fitted,
                                        const model::ContaminatedParams& truth);

} // namespace moesim::fit
