#include "moesim/fit/misspec_theory.hpp"

#include <Eigen/Eigenvalues>

#include <cmath>
#include <numbers>

namespace moesim::fit {

double collapse_threshold_rho(const model::GaussianMixture& mixture) {
    mixture.check();
    const Eigen::MatrixXd centred = mixture.means.rowwise() - mixture.centre();
    const Eigen::MatrixXd spread = centred.transpose() * mixture.weights.asDiagonal() * centred;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(spread, Eigen::EigenvaluesOnly);
    const double lambda_max = std::max(0.0, solver.eigenvalues().maxCoeff());
    return std::sqrt(1.0 + lambda_max / (mixture.sigma * mixture.sigma));
}

double hard_fixed_point_symmetric(double mu, double sigma) {
    return mu * std::erf(mu / (sigma * std::numbers::sqrt2)) +
           sigma * std::sqrt(2.0 / std::numbers::pi) * std::exp(-mu * mu / (2.0 * sigma * sigma));
}

} // namespace moesim::fit
