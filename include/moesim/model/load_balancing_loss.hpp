#pragma once
// The Switch Transformer load-balancing loss alpha * E * sum_e f_e P_e of a softmax router
// (f_e: the fraction of the batch's slots routed to expert e, held fixed; P_e: the batch mean
// of softmax(W x)_e), which pushes the router towards equal loads. Users: the sgd experiment's
// loss-trained router, the routing experiment.

#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <span>
#include <vector>

namespace moesim::model {

/// Gradient of alpha * E * sum_e f_e P_e with respect to the router weights W (E x dim,
/// row-major in `router`), with f_e = load[e] / sum(load) over the batch `inputs`. Computed on
/// the whole batch, `block` rows at a time in row order, so every rank holding the batch gets
/// the same bits at any rank count. All zeros if alpha is 0 or the load is empty. Local.
std::vector<double> load_balancing_gradient(std::span<const double> router, const RowMatrix& inputs,
                                            const std::vector<double>& load, double alpha,
                                            Eigen::Index block);

} // namespace moesim::model
