#pragma once
// Voronoi losses between a fitted and a true softmax-gated MoE (MODELS.md section 1): each
// fitted atom joins the cell of its nearest true atom, and
// D = sum_i |sum_{j in A_i} exp(b0_j) - exp(b0*_i)| + sum_{|A_i|=1} exp(b0_j)|D_ij|
//   + sum_{|A_i|>1} sum_{j in A_i} exp(b0_j)|D_ij|^r,
// which is zero exactly when the fit equals the truth up to relabelling and gate
// translation, and scales like the parameter error of each cell's own rate.
// Users: the rates experiment.

#include "moesim/model/gaussian_moe.hpp"

#include <Eigen/Core>

#include <string>
#include <string_view>
#include <vector>

namespace moesim::fit {

/// How the gate translation (gates are identified only up to adding the same (slope, bias)
/// to every expert) is fixed before comparing.
enum class GateGauge {
    /// MODELS.md: the true last expert's gate is 0, and the fitted atoms in its Voronoi cell
    /// are translated so that their total gate mass is 1 and their mass-weighted gate slope
    /// is 0. Unlike "the last fitted expert is 0", this does not depend on the fitted
    /// experts' labels, which EM from k-means++ does not control.
    last_cell,
    /// Both models translated so that sum_j exp(b0_j) = 1 and sum_j exp(b0_j) b1_j = 0.
    weighted,
};

/// "last_cell", "weighted".
std::vector<std::string> gate_gauge_names();
/// Throws InternalError for names not in gate_gauge_names().
GateGauge parse_gate_gauge(std::string_view name);

struct VoronoiSettings {
    double exponent = 2.0; ///< r, for cells holding more than one fitted atom
    GateGauge gauge = GateGauge::last_cell;
};

/// The loss, its parts, and the cells.
struct VoronoiLoss {
    double total = 0.0;     ///< D
    double gate_mass = 0.0; ///< sum_i |sum_{j in A_i} exp(b0_j) - exp(b0*_i)|
    /// Per-parameter errors: the cell terms of D with |D_ij| replaced by the error of one
    /// parameter block (gate slope, expert slope, expert bias, variance).
    double gate_slope = 0.0;
    double expert_slope = 0.0;
    double expert_bias = 0.0;
    double variance = 0.0;
    /// Raw parameter errors within the cells holding more than one fitted atom: per block,
    /// sum over those cells of sum_{j in A_i} (exp(b0_j) / sum_{l in A_i} exp(b0_l)) |D_ij|,
    /// |D_ij| itself instead of |D_ij|^r and each atom weighted by its share of the cell's
    /// mass, so that an r-th power loss at n^-1/2 shows as the slow n^-1/(2r) of the
    /// parameters themselves whatever the cell's mass. 0 when no cell is split.
    double split_gate_slope = 0.0;
    double split_expert_slope = 0.0;
    double split_expert_bias = 0.0;
    double split_variance = 0.0;
    std::vector<Eigen::Index> cell; ///< cell[j] = the true atom fitted atom j belongs to
};

/// Names of the losses a VoronoiLoss holds, in the order of as_array().
std::vector<std::string> voronoi_loss_names();
/// {total, gate_mass, gate_slope, expert_slope, expert_bias, variance}.
std::vector<double> as_array(const VoronoiLoss& loss);
/// Names of the raw split-cell errors ("split_gate_slope", ...), in the order of
/// split_cell_array(); reported for over-specified fits only.
std::vector<std::string> split_cell_loss_names();
/// {split_gate_slope, split_expert_slope, split_expert_bias, split_variance}.
std::vector<double> split_cell_array(const VoronoiLoss& loss);

/// Atoms are omega_j = (gate slope, expert slope, expert bias, variance) after the
/// translation of `settings.gauge`; cells are formed in the weighted gauge (ties go to the
/// lower true index). Invariant to relabelling the fitted experts and to translating either
/// model's gates; zero when fitted equals truth up to both. Local.
VoronoiLoss voronoi_loss(const model::MoeParams& fitted, const model::MoeParams& truth,
                         const VoronoiSettings& settings = {});

/// Names of tempered_losses(): voronoi_loss_names(), then "temperature" (|tau^ - tau*|) and
/// "gate_slope_scaled" (the gate_slope loss of beta1/tau).
std::vector<std::string> tempered_loss_names();

/// Losses of the temperature and activation gates (model/tempered_gate.hpp), following the
/// mixing measure of arXiv 2401.13875, sum_i exp(beta0_i/tau) delta_(beta1_i, tau, a_i, b_i,
/// nu_i): voronoi_loss with gate masses exp(beta0/tau) and the raw gate slopes beta1, whose
/// total also gets |tau^ - tau*|; then |tau^ - tau*| alone; then the gate_slope loss of the
/// scaled slopes beta1/tau. For the temperature gate only beta1/tau (and beta0/tau) are
/// identified, so "gate_slope_scaled" is the gate error the data can pin down while
/// "gate_slope" and "temperature" also carry the unidentified scale. Local.
std::vector<double> tempered_losses(const model::MoeParams& fitted, const model::MoeParams& truth,
                                    const VoronoiSettings& settings = {});

/// Names of tempered_split_cell_losses(): split_cell_loss_names(), then
/// "split_gate_slope_scaled".
std::vector<std::string> tempered_split_cell_loss_names();

/// The raw split-cell errors of the temperature and activation gates, for over-specified
/// fits: split_cell_array() of the voronoi_loss that tempered_losses() scores (masses
/// exp(beta0/tau), raw slopes beta1), then split_gate_slope of the scaled slopes beta1/tau
/// (cells formed on those, the gate error the temperature gate identifies). tau is shared by
/// every atom, so it has no split-cell term. Local.
std::vector<double> tempered_split_cell_losses(const model::MoeParams& fitted,
                                               const model::MoeParams& truth,
                                               const VoronoiSettings& settings = {});

/// `params` translated to the weighted gauge (see GateGauge::weighted). Local.
model::MoeParams weighted_gauge(const model::MoeParams& params);

} // namespace moesim::fit
