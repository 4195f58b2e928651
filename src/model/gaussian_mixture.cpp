#include "moesim/model/gaussian_mixture.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <fmt/format.h>

#include <cmath>
#include <span>

namespace moesim::model {

std::vector<std::string> mixture_geometry_names() {
    return {"symmetric", "simplex", "custom"};
}

MixtureGeometry parse_mixture_geometry(std::string_view name) {
    if (name == "symmetric")
        return MixtureGeometry::symmetric;
    if (name == "simplex")
        return MixtureGeometry::simplex;
    if (name == "custom")
        return MixtureGeometry::custom;
    throw core::InternalError(fmt::format("parse_mixture_geometry: unknown geometry '{}'", name));
}

double geometric_snr(const Eigen::MatrixXd& means, double sigma) {
    const Eigen::RowVectorXd centroid = means.colwise().mean();
    return (means.rowwise() - centroid).rowwise().squaredNorm().mean() / (sigma * sigma);
}

std::optional<std::string> mixture_means_problem(MixtureGeometry geometry, Eigen::Index k,
                                                 Eigen::Index d, double snr,
                                                 const Eigen::MatrixXd& custom_means) {
    if (!(std::isfinite(snr) && snr >= 0.0))
        return fmt::format("the SNR must be finite and >= 0, not {}", snr);
    if (k < 1 || d < 1)
        return fmt::format("needs at least one component and one dimension (k = {}, d = {})", k, d);
    if (k == 1 && snr > 0.0)
        return fmt::format("one component sits at its own centroid: only SNR 0, not {}", snr);
    switch (geometry) {
    case MixtureGeometry::symmetric:
        if (k != 2)
            return fmt::format("the symmetric geometry (+-mu) has 2 components, not {}", k);
        return std::nullopt;
    case MixtureGeometry::simplex:
        if (d < k - 1)
            return fmt::format("a regular simplex with {} vertices needs dimension >= {}, not {}",
                               k, k - 1, d);
        return std::nullopt;
    case MixtureGeometry::custom:
        if (custom_means.rows() != k || custom_means.cols() != d)
            return fmt::format("custom means are {} x {}, expected k x d = {} x {}",
                               custom_means.rows(), custom_means.cols(), k, d);
        if (!custom_means.allFinite())
            return std::string("custom means must be finite");
        if (snr > 0.0 && !(geometric_snr(custom_means, 1.0) > 0.0))
            return fmt::format("custom means all coincide: they cannot be scaled to SNR {}", snr);
        return std::nullopt;
    }
    return std::string("unknown geometry");
}

Eigen::MatrixXd mixture_means(MixtureGeometry geometry, Eigen::Index k, Eigen::Index d, double snr,
                              double sigma, const Eigen::MatrixXd& custom_means) {
    if (const auto problem = mixture_means_problem(geometry, k, d, snr, custom_means))
        throw core::InternalError("mixture_means: " + *problem);
    core::require(sigma > 0.0 && std::isfinite(sigma), "mixture_means: sigma must be > 0");
    const double radius = std::sqrt(snr) * sigma;
    Eigen::MatrixXd means = Eigen::MatrixXd::Zero(k, d);
    switch (geometry) {
    case MixtureGeometry::symmetric:
        means(0, 0) = radius;
        means(1, 0) = -radius;
        break;
    case MixtureGeometry::simplex:
        // e_i - (1/k) 1 in the Helmert basis h_j = (1, .., 1, -j, 0, ..) / sqrt(j (j + 1)),
        // j = 1 .. k-1, of the plane orthogonal to 1; each has norm sqrt((k - 1) / k).
        for (Eigen::Index j = 1; j < k; ++j) {
            const double norm = std::sqrt(double(j) * double(j + 1));
            for (Eigen::Index i = 0; i < j; ++i)
                means(i, j - 1) = 1.0 / norm;
            means(j, j - 1) = -double(j) / norm;
        }
        if (k > 1)
            means *= radius / std::sqrt(double(k - 1) / double(k));
        break;
    case MixtureGeometry::custom: {
        const Eigen::RowVectorXd centroid = custom_means.colwise().mean();
        const double spread = geometric_snr(custom_means, 1.0);
        const double scale = spread > 0.0 ? radius / std::sqrt(spread) : 0.0;
        means = ((custom_means.rowwise() - centroid) * scale).rowwise() + centroid;
        break;
    }
    }
    return means;
}

Eigen::RowVectorXd GaussianMixture::centre() const {
    return weights.transpose() * means;
}

void GaussianMixture::check() const {
    const Eigen::Index k = components();
    core::require(k >= 1 && dim() >= 1 && weights.size() == k,
                  "GaussianMixture: means must be k x d with k weights");
    core::require(means.allFinite() && weights.allFinite(), "GaussianMixture: non-finite value");
    core::require((weights.array() >= 0.0).all() && std::abs(weights.sum() - 1.0) <= 1e-12,
                  "GaussianMixture: weights must be >= 0 and sum to 1");
    core::require(sigma > 0.0 && std::isfinite(sigma), "GaussianMixture: sigma must be > 0");
}

Eigen::VectorXd uniform_weights(Eigen::Index k) {
    return Eigen::VectorXd::Constant(k, 1.0 / double(k));
}

MixtureSample sample_mixture(const GaussianMixture& mixture, std::uint64_t seed,
                             std::uint32_t job_id, Eigen::Index n) {
    mixture.check();
    const core::Philox rng(seed, "misspec.data");
    const Eigen::Index k = mixture.components(), d = mixture.dim();
    MixtureSample out{Eigen::MatrixXd(n, d),
                      std::vector<Eigen::Index>(static_cast<std::size_t>(n))};
    Eigen::VectorXd xi(d);
    for (Eigen::Index m = 0; m < n; ++m) {
        const auto id = static_cast<std::uint64_t>(m);
        const double u = rng.uniform_pair(id, job_id, 0)[0];
        Eigen::Index z = k - 1;
        double cumulative = 0.0;
        for (Eigen::Index i = 0; i + 1 < k; ++i) {
            cumulative += mixture.weights(i);
            if (u < cumulative) {
                z = i;
                break;
            }
        }
        rng.fill_normal(id, job_id, std::span<double>(xi.data(), static_cast<std::size_t>(d)), 1);
        out.x.row(m) = mixture.means.row(z) + mixture.sigma * xi.transpose();
        out.labels[static_cast<std::size_t>(m)] = z;
    }
    return out;
}

} // namespace moesim::model
