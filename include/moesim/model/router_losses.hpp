#pragma once
// The auxiliary losses on a linear router's logits l = W x (MODELS.md section 5.1, Megatron
// names): the Switch load-balancing loss alpha * E * sum_e f_e P_e, with f_e the fraction of
// the batch's T*k slots a fresh top-k of the scores sends to e (before capacity dropping or
// any selection bias; held fixed) and P_e the batch mean of e's normalised score (softmax, or
// sigmoid scores divided by their sum over all experts); and the router z-loss
// beta * mean_x (logsumexp_e l_e)^2, which keeps the logits small. Both are computed on the
// whole batch, `block` rows at a time in row order, so every rank holding the batch gets the
// same bits at any rank count. Users: the routing experiment, tests.

#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <span>
#include <vector>

namespace moesim::model {

enum class ScoreFunction { softmax, sigmoid };

/// A loss value and its gradient with respect to W (E x dim, row-major).
struct RouterLoss {
    double value = 0;
    std::vector<double> gradient;
};

/// alpha * E * sum_e f_e P_e for router weights W (`router`, E x dim row-major) on `inputs`,
/// top-k slots per sample. Local.
RouterLoss switch_aux_loss(std::span<const double> router, const RowMatrix& inputs,
                           Eigen::Index n_experts, Eigen::Index k, ScoreFunction score,
                           double alpha, Eigen::Index block);

/// beta * mean_x (logsumexp_e (W x)_e)^2. Local.
RouterLoss router_z_loss(std::span<const double> router, const RowMatrix& inputs,
                         Eigen::Index n_experts, double beta, Eigen::Index block);

} // namespace moesim::model
