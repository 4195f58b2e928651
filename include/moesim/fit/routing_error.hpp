#pragma once
// The routing error of a top-1 gated MoE on d = 1 inputs (arXiv 2309.13850 with K = 1): a
// top-1 gate enters the likelihood only through which expert wins at each x, so its slopes
// and biases are not identified, only the partition of the line they induce (for two experts
// the boundary -beta0/beta1). The identified gate error is the probability, over
// x ~ N(0, x_scale^2), that the fitted winner belongs to another Voronoi cell than the true
// winner, computed exactly from the lines' crossing points; for two experts on each side it
// is |Phi(t^/s) - Phi(t*/s)| for boundaries t^, t*. Users: the rates experiment.

#include "moesim/model/gaussian_moe.hpp"

#include <Eigen/Core>

#include <vector>

namespace moesim::fit {

/// P_x(cell[argmax_j fitted logit_j(x)] != argmax_i true logit_i(x)), ties to the lower index
/// as in model::TopKGate; `cell[j]` is the true atom fitted expert j belongs to (voronoi_loss).
/// Both models must have d = 1 (InternalError otherwise). Local.
double top1_routing_error(const model::MoeParams& fitted, const std::vector<Eigen::Index>& cell,
                          const model::MoeParams& truth, double x_scale);

} // namespace moesim::fit
