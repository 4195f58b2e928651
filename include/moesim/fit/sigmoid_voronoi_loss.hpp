#pragma once
// Voronoi loss between a fitted and a true sigmoid-gated MoE regression (model/sigmoid_moe),
// the least-squares counterpart of fit/voronoi_loss after arXiv 2405.13997. Each fitted atom
// omega_j = (beta1_j, a_j, b_j) joins the cell A_i of its nearest true atom (ties to the lower
// true index). With s_j = sigma(beta0_j), the atom's gate value at beta1 = 0,
//   D = sum_i |sum_{j in A_i} s_j - s*_i|
//     + sum_{i: |A_i| = 1} sum_{j in A_i} s_j |omega_j - omega*_i|
//     + sum_{i: |A_i| > 1} sum_{j in A_i} s_j |omega_j - omega*_i|^r.
// Differences from the softmax loss: the masses are sigma(beta0) instead of exp(beta0)
// (sigmoid gates are not normalised, hence not translation invariant: no gauge to fix), and
// fitted atoms splitting a true atom with beta1* = 0 share its mass (sigma(b0_1) + sigma(b0_2)
// = sigma(b0*)). As in every Voronoi loss of this line of work, the parameter terms are
// weighted by the atoms' masses, so an extra fitted atom whose gate vanishes (a tail patch
// with beta0 -> -inf, seen in over-specified least-squares fits) costs its mass, not its
// arbitrary parameters. D is zero exactly when the fit equals the truth up to relabelling.
// Users: the rates experiment.

#include "moesim/model/sigmoid_moe.hpp"

#include <Eigen/Core>

#include <string>
#include <vector>

namespace moesim::fit {

/// The loss, its parts, and the cells.
struct SigmoidVoronoiLoss {
    double total = 0.0;     ///< D
    double gate_mass = 0.0; ///< sum_i |sum_{j in A_i} sigma(b0_j) - sigma(b0*_i)|
    /// Per-parameter errors: the mass-weighted cell terms of D with |omega_j - omega*_i|
    /// replaced by the error of one block (gate slope beta1, expert slope a, expert bias b).
    double gate_slope = 0.0;
    double expert_slope = 0.0;
    double expert_bias = 0.0;
    /// Raw errors within the cells holding more than one fitted atom, as in
    /// fit::VoronoiLoss: per block, sum over those cells of
    /// sum_{j in A_i} (s_j / sum_{l in A_i} s_l) |D_ij|. 0 when no cell is split.
    double split_gate_slope = 0.0;
    double split_expert_slope = 0.0;
    double split_expert_bias = 0.0;
    std::vector<Eigen::Index> cell; ///< cell[j] = the true atom fitted atom j belongs to
};

/// {"voronoi", "gate_mass", "gate_slope", "expert_slope", "expert_bias"}, the order of
/// as_array().
std::vector<std::string> sigmoid_voronoi_loss_names();
std::vector<double> as_array(const SigmoidVoronoiLoss& loss);
/// The names of fit::split_cell_loss_names() but split_variance (least squares estimates no
/// per-expert variance), in the order of split_cell_array(); the softmax_regression family
/// reports the same three.
std::vector<std::string> regression_split_cell_loss_names();
/// {split_gate_slope, split_expert_slope, split_expert_bias}.
std::vector<double> split_cell_array(const SigmoidVoronoiLoss& loss);

/// D with exponent r for cells of more than one fitted atom. Invariant to relabelling the
/// fitted experts. Local. Throws InternalError if the dimensions differ.
SigmoidVoronoiLoss sigmoid_voronoi_loss(const model::SigmoidMoeParams& fitted,
                                        const model::SigmoidMoeParams& truth,
                                        double exponent = 2.0);

} // namespace moesim::fit
