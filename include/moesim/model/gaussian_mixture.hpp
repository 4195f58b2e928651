#pragma once
// An isotropic Gaussian mixture sum_k pi_k N(mu_k, sigma^2 I_d): the mean geometries of the
// misspec experiment (MODELS.md section 4), built for a given signal-to-noise ratio, and its
// samples, drawn one sample id at a time from Philox so a job's data is a pure function of
// (seed, job id). Users: the misspec experiment, fit/ population and fit tests, and
// bench_misspec_fit.

#include <Eigen/Core>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// Where the K means sit. The SNR of every geometry is the mean squared distance of the means
/// from their centroid c = (1/K) sum_k mu_k over sigma^2, SNR = (1/K) sum_k ||mu_k - c||^2 /
/// sigma^2 (unweighted: a property of the geometry, not of the weights), which is
///   symmetric: +-mu (K = 2), SNR = ||mu||^2 / sigma^2; mu = sqrt(SNR) sigma e_1;
///   simplex:   the K vertices of a regular simplex centred at 0 in the first K-1 coordinates
///              (d >= K-1), SNR = r^2 / sigma^2 with r the distance of each vertex from 0
///              (K = 2: the symmetric geometry);
///   custom:    given K x d means, scaled about their centroid to the SNR (the centroid stays).
enum class MixtureGeometry { symmetric, simplex, custom };

/// "symmetric", "simplex", "custom".
std::vector<std::string> mixture_geometry_names();
/// Throws InternalError for names not in mixture_geometry_names().
MixtureGeometry parse_mixture_geometry(std::string_view name);

/// Why `geometry` cannot give k means in dimension d at `snr`, or nothing if it can: symmetric
/// needs k = 2; simplex needs d >= k - 1; custom needs `custom_means` of shape k x d, finite,
/// and not all equal when snr > 0; every geometry needs a finite snr >= 0, k >= 1 and d >= 1
/// (and k = 1 only at snr = 0). For the experiment's config check, which turns it into a
/// ConfigError naming the key. Local.
std::optional<std::string> mixture_means_problem(MixtureGeometry geometry, Eigen::Index k,
                                                 Eigen::Index d, double snr,
                                                 const Eigen::MatrixXd& custom_means = {});

/// The k x d means of `geometry` at `snr` and noise level `sigma` (see MixtureGeometry).
/// Local. Throws InternalError with mixture_means_problem's message if there is one, or if
/// sigma <= 0.
Eigen::MatrixXd mixture_means(MixtureGeometry geometry, Eigen::Index k, Eigen::Index d, double snr,
                              double sigma, const Eigen::MatrixXd& custom_means = {});

/// SNR of a set of means (k x d): (1/k) sum_k ||mu_k - centroid||^2 / sigma^2. Local.
double geometric_snr(const Eigen::MatrixXd& means, double sigma);

/// sum_k pi_k N(mu_k, sigma^2 I).
struct GaussianMixture {
    Eigen::MatrixXd means;   ///< k x d
    Eigen::VectorXd weights; ///< k, nonnegative, summing to 1
    double sigma = 1.0;      ///< noise standard deviation, > 0

    Eigen::Index components() const { return means.rows(); }
    Eigen::Index dim() const { return means.cols(); }
    /// Mixture mean sum_k pi_k mu_k.
    Eigen::RowVectorXd centre() const;
    /// Throws InternalError unless shapes agree, weights are >= 0 and sum to 1 (to 1e-12),
    /// sigma > 0 and everything is finite.
    void check() const;
};

/// k equal weights 1/k.
Eigen::VectorXd uniform_weights(Eigen::Index k);

/// n samples and the component each came from.
struct MixtureSample {
    Eigen::MatrixXd x;                ///< n x d
    std::vector<Eigen::Index> labels; ///< n: the true component of each row
};

/// Draws n samples of `mixture`: component z ~ pi by inverse CDF on one uniform, then x = mu_z
/// + sigma xi, xi ~ N(0, I_d). Philox stream (seed, "misspec.data") with counter (sample id,
/// job id, draw): draw 0 picks the component, draws 1 .. (d+1)/2 the normals. A pure function
/// of (mixture, seed, job_id, n); row m does not depend on n. Local. Throws as check().
MixtureSample sample_mixture(const GaussianMixture& mixture, std::uint64_t seed,
                             std::uint32_t job_id, Eigen::Index n);

} // namespace moesim::model
