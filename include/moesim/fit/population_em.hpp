#pragma once
// The population (n -> infinity) versions of the misspec experiment's two fits of an
// isotropic Gaussian mixture: the fixed-variance EM map and the hard-assignment (Lloyd) map,
// with expectations under the true mixture computed by quadrature in the span of the centred
// means, and their fixed points iterated from a given start (the truth, for near-truth
// inits). Users: the misspec experiment's `population[rho][snr]` and the fit tests.
//
// Why the span suffices: let S be the span of {mu_k - mu_bar} and of the start's
// {m_j - mu_bar}, P its projector, Q = I - P. If every m_j - mu_bar lies in S, then
// ||x - m_j||^2 = ||P(x - mu_bar) - (m_j - mu_bar)||^2 + ||Q(x - mu_bar)||^2, and the second
// term is the same for every j, so it cancels from the responsibilities (softmax) and from
// the nearest-centre rule: both depend on x only through u = P(x - mu_bar). Given the
// component, Q(x - mu_bar) = sigma Q xi is independent of u (isotropic noise, mu_k - mu_bar in
// S) with mean 0, so E[r_j(u) Q(X - mu_bar)] = 0: every update stays in mu_bar + S. The maps
// are therefore exact as integrals over u in dim S <= K - 1 (truth start) coordinates, where
// u | z = k ~ N(P(mu_k - mu_bar), sigma^2 I).

#include "moesim/model/gaussian_mixture.hpp"

#include <Eigen/Core>

#include <cstdint>

namespace moesim::fit {

struct PopulationSettings {
    double variance = 1.0;         ///< tau^2 of the fitted components (EM map only)
    bool estimate_weights = false; ///< EM map only: also iterate the weights
    Eigen::Index nodes = 64;       ///< Gauss-Hermite nodes per coordinate (see below)
    /// Width, in standard deviations, of the composite Gauss-Legendre panels (8 nodes each)
    /// used for 1-D integrals over [-9, 9] sigma (see below).
    double panel_width = 0.02;
    double tolerance = 1e-24; ///< stop when sum_j ||m_j' - m_j||^2 <= tolerance
    std::int64_t max_iterations = 100000;
    Eigen::Index max_points = Eigen::Index{1} << 22; ///< cap on K * nodes^dim S (EM map)
};

struct PopulationFixedPoint {
    Eigen::MatrixXd means;       ///< J x d, in mu_bar + S
    Eigen::VectorXd weights;     ///< J (the start's unless estimated; empty for hard)
    std::int64_t iterations = 0; ///< map applications
    bool converged = false;      ///< tolerance reached within max_iterations
    Eigen::Index span_dim = 0;   ///< dim S
};

/// The fixed point of the population EM map with covariance tau^2 I (settings.variance),
/// reached from `start` (J x d) with weights `start_weights` (J): the map is EM on quadrature
/// points of each component (centred at its mean, scaled by sigma), weighted by pi_k times the
/// rule's weights, i.e. fit_isotropic_mixture with sample weights. The responsibilities switch
/// over a width of about tau^2 / |m_j - m_l|, which is narrow at small rho. dim S = 1 (two
/// means, e.g. +-mu) uses the composite rule with settings.panel_width, accurate down to
/// rho ~ 0.2 at SNR 16; dim S >= 2 uses the tensor Gauss-Hermite rule with settings.nodes per
/// coordinate, accurate while the width exceeds its node spacing (about sigma pi /
/// sqrt(nodes)), so roughly rho >= 0.8 at SNR <= 4 with 64 nodes. Local. Throws InternalError
/// if K * nodes^dim S exceeds settings.max_points or on bad shapes.
PopulationFixedPoint population_em_fixed_point(const model::GaussianMixture& truth,
                                               const Eigen::MatrixXd& start,
                                               const Eigen::VectorXd& start_weights,
                                               const PopulationSettings& settings);

/// The fixed point of the population hard-assignment map m_j <- E[X | X in cell j] (cells of
/// the nearest-centre rule), from `start` (J x d). Each cell is a polyhedron, so along one
/// direction v of S it is an interval whose Gaussian mass and first moment are closed forms
/// (erfc and the normal density). v is re-chosen at every step as far as possible from every
/// cell boundary's plane, which keeps the integrand over the other dim S - 1 coordinates
/// continuous, with kinks where the line meets points equidistant from three centres. Exact to
/// rounding for dim S = 1 (two means, e.g. +-mu); for dim S = 2 the outer coordinate uses the
/// composite rule cut at those kinks (spectral accuracy); beyond, tensor Gauss-Hermite with
/// settings.nodes, whose error falls only like a low power of 1 / nodes at the kinks. Local.
/// Throws InternalError on bad shapes.
PopulationFixedPoint population_hard_fixed_point(const model::GaussianMixture& truth,
                                                 const Eigen::MatrixXd& start,
                                                 const PopulationSettings& settings);

} // namespace moesim::fit
