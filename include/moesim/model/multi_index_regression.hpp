#pragma once
// The regression data of arXiv 2502.05784 (section 5.1 and appendix B.1, MODELS.md 3.1):
// z in R^d with a radially symmetric law of radius at most r, label
// y = (Rbar / k) sum_{j < k} tanh(z_j) (+ optional Gaussian noise). Sample b is a pure function
// of (seed, b), so every rank and rank count sees the same data.
// Users: the propagation-of-chaos experiment, tests.

#include "moesim/model/labelled_data.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::model {

/// How |z| is drawn; the direction is always uniform on the sphere.
/// - uniform_ball: z uniform in the ball of radius r (|z| = r u^(1/d)), the main text's
///   wording and the default;
/// - uniform_radius: |z| = r u, uniform in [0, r] (one reading of the appendix);
/// - sphere: |z| = r.
enum class RadiusLaw { uniform_ball, uniform_radius, sphere };

/// Names as written in configs: "uniform_ball", "uniform_radius", "sphere".
std::vector<std::string> radius_law_names();
/// Throws core::InternalError on an unknown name (configs validate first).
RadiusLaw parse_radius_law(std::string_view name);

struct MultiIndexParams {
    std::int64_t samples = 500; ///< n
    std::int64_t dim = 100;     ///< d
    std::int64_t indices = 100; ///< k <= d: the label uses z_0 .. z_{k-1}
    double radius = 5.0;        ///< r
    RadiusLaw radius_law = RadiusLaw::uniform_ball;
    /// Rbar. The main text has none (1); the appendix multiplies by Rbar = 100.
    double label_scale = 1.0;
    double label_noise_sd = 0.0; ///< sd of Gaussian noise added to y (the paper adds none)
};

/// n samples (n x d inputs, n labels) from Philox stream "poc.multi_index" of `seed`, keyed by
/// sample id. Local. Throws core::InternalError on sizes < 1, k > d, r < 0 or a negative sd.
LabelledData multi_index_regression(std::uint64_t seed, const MultiIndexParams& params);

} // namespace moesim::model
