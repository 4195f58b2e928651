#pragma once
// Online k-means (vector quantisation) with a linear router's rows as the prototypes: the
// router learns the input clusters from the inputs alone, never from labels or cluster ids.
// Users: the sgd experiment (sgd.router_kmeans_steps), the routing experiment.

#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <span>

namespace moesim::model {

/// One step on the router rows W (n_experts x dim, row-major in `router`): each sample of the
/// batch goes to its top-1 expert argmax_e W_e x (ties to the lower id, as the router), then
/// W_e += lr * sum_{x -> e} (x - W_e) / batch: SGD on 1/2 |x - W_e(x)|^2. On the whole batch,
/// `block` rows at a time in row order, so every rank holding the batch gets the same bits at
/// any rank count. Local.
void online_kmeans_step(std::span<double> router, const RowMatrix& inputs, Eigen::Index n_experts,
                        double lr, Eigen::Index block);

} // namespace moesim::model
