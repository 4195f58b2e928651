#pragma once
// Density losses of the rates experiment (MODELS.md section 1.1, arXiv 2309.13850): the
// expected Hellinger distance between a fitted and the true conditional density of y given x,
//   E_x H(p(.|x), q(.|x)),   H(p, q)^2 = 1 - integral sqrt(p q) dy,
// over a fixed evaluation set of inputs. Both densities are finite mixtures of Gaussian or
// Laplace components in y (the Gaussian MoEs, the contaminated MoEs); the integral is taken
// against the midpoint mixture m = (p + q) / 2,
//   1 - integral sqrt(p q) = integral m (1 - h),  h = sqrt(p q) / m = sech((log p - log q) / 2),
// component by component of m: Gaussian components by a composite Gauss-Legendre rule on
// [-8, 8] standard deviations (fit/gaussian_quadrature), Laplace ones by Gauss-Legendre in the
// exponential's CDF on each side. h is in [0, 1] and exactly 1 where p = q, so the loss is 0
// exactly at the truth, symmetric (to rounding) and at most 1. Users: the rates families.

#include "moesim/model/contaminated_moe.hpp"
#include "moesim/model/gaussian_moe.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace moesim::fit {

/// One mixture component in y: weight exp(log_weight), a Gaussian N(location, scale^2) (scale
/// the sd) or a Laplace with location and scale s.
struct DensityComponent {
    double log_weight = 0.0;
    bool laplace = false;
    double location = 0.0;
    double scale = 1.0; ///< positive
};

/// A conditional density at one x: its components (weights summing to 1).
using MixtureAtX = std::vector<DensityComponent>;

/// log of the mixture's density at y. Local.
double mixture_log_density(const MixtureAtX& mixture, double y);

/// H(p, q) in [0, 1] by the quadrature above. Local.
double hellinger_distance(const MixtureAtX& p, const MixtureAtX& q);

/// The Gaussian MoE's p(y | x_m) (phi = `mean`), one mixture per row of x. Local.
std::vector<MixtureAtX> moe_mixtures(const model::Gate& gate, const model::MoeParams& params,
                                     const Eigen::MatrixXd& x,
                                     const model::ExpertFunction& mean = {});
/// The contaminated MoE's p(y | x_m), f0 first. Local.
std::vector<MixtureAtX> contaminated_mixtures(model::PromptGate gate,
                                              const model::PretrainedExpert& f0,
                                              const model::ContaminatedParams& params,
                                              const Eigen::MatrixXd& x,
                                              const model::ExpertFunction& prompt_mean = {});

/// The mean of hellinger_distance over paired mixtures (same length). Local.
double expected_hellinger(const std::vector<MixtureAtX>& p, const std::vector<MixtureAtX>& q);

/// H(N(mean_p, variance_p), N(mean_q, variance_q)) in closed form:
/// H^2 = 1 - sqrt(2 s_p s_q / (v_p + v_q)) exp(-(mean_p - mean_q)^2 / (4 (v_p + v_q))).
/// Variances positive. Local.
double gaussian_hellinger(double mean_p, double variance_p, double mean_q, double variance_q);

/// The density loss of a regression y = f(x) + N(0, v) (the least-squares families): the mean
/// over the evaluation inputs of gaussian_hellinger(f_p(x_m), v_p, f_q(x_m), v_q), given the
/// two mean functions at those inputs (same length). Local.
double regression_hellinger(const Eigen::VectorXd& mean_p, double variance_p,
                            const Eigen::VectorXd& mean_q, double variance_q);

/// The evaluation inputs: rows x = x_scale * z, z ~ N(0, I_d), from Philox (seed,
/// "rates.density.x"), the same for every job of a run. Local.
Eigen::MatrixXd density_evaluation_inputs(std::uint64_t seed, Eigen::Index points, Eigen::Index d,
                                          double x_scale);

} // namespace moesim::fit
