#pragma once
// Closed forms of mean estimation in an isotropic Gaussian mixture fitted with the wrong
// variance tau^2 = rho^2 sigma^2 (MODELS.md section 4, arXiv 2605.02448): the rho above which
// EM collapses every mean onto the mixture centre, and the hard-assignment (tau -> 0, k-means)
// population fixed point for two symmetric means. Users: the misspec experiment's theory
// overlay and the fit tests.

#include "moesim/model/gaussian_mixture.hpp"

namespace moesim::fit {

/// The collapse threshold rho_c of fixed-variance EM with the weights fixed:
/// rho_c^2 = 1 + lambda_max(sum_k pi_k (mu_k - mu_bar)(mu_k - mu_bar)') / sigma^2, with
/// mu_bar = sum_k pi_k mu_k the mixture mean, i.e. rho_c^2 sigma^2 = lambda_max(Cov X). The
/// brief formula uses sum_k pi_k mu_k mu_k' for centred means; for means not centred at 0
/// the collapsed fixed point is mu_bar (every estimate at the data mean), and linearising the
/// EM map there gives delta_k -> Cov(X) (delta_k - sum_l w_l delta_l) / tau^2, so centring at
/// mu_bar is the general statement (and leaves centred means unchanged). For +-mu:
/// rho_c^2 = 1 + SNR; for the regular simplex with equal weights: 1 + SNR / (K - 1). Above
/// rho_c the centre attracts every start near it. Local. Throws as mixture.check().
double collapse_threshold_rho(const model::GaussianMixture& mixture);

/// m = mu erf(mu / (sigma sqrt 2)) + sigma sqrt(2 / pi) exp(-mu^2 / (2 sigma^2)): the
/// population fixed point E[X | X > 0] of hard assignment (Lloyd) for X ~ (1/2) N(mu, sigma^2)
/// + (1/2) N(-mu, sigma^2), mu >= 0 (in d dimensions, the norm of each estimate along
/// mu / |mu|; the other coordinates average to 0). Local.
double hard_fixed_point_symmetric(double mu, double sigma);

} // namespace moesim::fit
