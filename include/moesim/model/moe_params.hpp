#pragma once
// The parameters of a k-expert Gaussian MoE (MODELS.md section 1) as plain matrices, so gates,
// fits (EM, Voronoi losses) and samplers read and write them directly.
// Users: model/gate, model/gaussian_moe, fit/, the rates experiment.

#include <Eigen/Core>

#include <vector>

namespace moesim::model {

/// Parameters of a k-expert Gaussian MoE on inputs in R^d. Expert i: gate slope row
/// gate_slope.row(i) (beta1_i), gate bias gate_bias(i) (beta0_i), expert slope
/// expert_slope.row(i) (a_i), expert bias expert_bias(i) (b_i), variance variance(i) (nu_i),
/// and one temperature tau shared by all experts, read only by the temperature and activation
/// gates (model/tempered_gate.hpp); the other gates ignore it and fits leave it at 1.
struct MoeParams {
    Eigen::MatrixXd gate_slope;   ///< k x d
    Eigen::VectorXd gate_bias;    ///< k
    Eigen::MatrixXd expert_slope; ///< k x d
    Eigen::VectorXd expert_bias;  ///< k
    Eigen::VectorXd variance;     ///< k, positive
    double temperature = 1.0;     ///< tau > 0 (tempered gates only)

    /// k x d zeros (variance 1).
    static MoeParams zeros(Eigen::Index k, Eigen::Index d);
    Eigen::Index experts() const noexcept { return gate_bias.size(); }
    Eigen::Index dim() const noexcept { return gate_slope.cols(); }
    /// Throws InternalError unless every block has k rows and d columns, nu > 0 and tau > 0.
    void check() const;
    /// Copy with experts reordered: result expert j is this expert order[j].
    MoeParams permuted(const std::vector<Eigen::Index>& order) const;
    /// Copy with gate_slope.row(k-1) and gate_bias(k-1) subtracted from every expert's gate:
    /// softmax gates are identified only up to a common translation, and EM fixes the last
    /// expert's gate at 0.
    MoeParams last_gate_zero() const;
};

} // namespace moesim::model
