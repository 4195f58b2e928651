#pragma once
// The mean function phi of an expert, h(x, (a, b)) = phi(a'x + b) (MODELS.md section 1): the
// identity (the linear experts of the Gaussian MoE), tanh or the logistic sigmoid (the
// tanh(eta'x) experts of arXiv 2505.18455), GELU, ReLU, or z^p. Shared by every rates family:
// the Gaussian MoEs and the contaminated MoEs (rates.expert_mean, rates.f0_mean) and the
// least-squares sigmoid and softmax regressions (rates.expert_kind).
// Users: model/gaussian_moe, model/contaminated_moe, model/sigmoid_moe, fit/.

#include <Eigen/Core>

#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// The expert nonlinearity phi in h(x, (a, b)) = phi(a'x + b).
enum class ExpertKind { linear, tanh, sigmoid, gelu, relu, polynomial };

/// "linear", "tanh", "sigmoid", "gelu", "relu", "polynomial".
std::vector<std::string> expert_kind_names();
/// Throws InternalError for names not in expert_kind_names() (configs validate first).
ExpertKind parse_expert_kind(std::string_view name);

/// phi and its derivative. The sigmoid papers' theory: ReLU and GELU experts are strongly
/// identifiable (fast rates); linear and polynomial experts interact with the gate through a
/// PDE (slow rates). Note: for an atom with a constant gate (beta1 = 0) any positively
/// homogeneous phi (linear, ReLU, z^p) obeys d f/d beta0 = (1 - s)(a d f/da + b d f/db) / p
/// (p = 1 but for polynomials), so ReLU experts are slow there too (measured in
/// jobs/configs/rates-sigmoid-linear.toml).
struct ExpertFunction {
    ExpertKind kind = ExpertKind::linear;
    int degree = 2; ///< p of the polynomial expert (a'x + b)^p, at least 1; ignored otherwise

    bool linear() const noexcept { return kind == ExpertKind::linear; }
    double value(double z) const noexcept;
    /// phi'(z); ReLU: 1 for z > 0, else 0.
    double derivative(double z) const noexcept;
    /// phi(u_m) and phi'(u_m) for every entry, element by element (so entry m never depends
    /// on the others or on the length). Local.
    void evaluate(const Eigen::VectorXd& u, Eigen::VectorXd& value,
                  Eigen::VectorXd& derivative) const;
};

} // namespace moesim::model
