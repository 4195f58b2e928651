#include "moesim/model/concentric_circles.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <cmath>
#include <numbers>

namespace moesim::model {

LabelledData concentric_circles(std::uint64_t seed, const ConcentricCirclesParams& params) {
    core::require(params.samples >= 1, "concentric_circles: samples must be positive");
    core::require(params.noise_sd >= 0, "concentric_circles: noise_sd must be non-negative");
    const core::Philox rng(seed, "poc.circles");
    LabelledData data;
    data.inputs.resize(params.samples, 2);
    data.labels.resize(params.samples);
    for (Eigen::Index b = 0; b < params.samples; ++b) {
        const auto id = static_cast<std::uint64_t>(b);
        const bool outer = (b % 2) == 1;
        const double radius = outer ? params.outer_radius : params.inner_radius;
        const double angle = 2.0 * std::numbers::pi * rng.uniform_pair(id, 0, 0)[0];
        const auto noise = rng.normal_pair(id, 1, 0);
        data.inputs(b, 0) = radius * std::cos(angle) + params.noise_sd * noise[0];
        data.inputs(b, 1) = radius * std::sin(angle) + params.noise_sd * noise[1];
        data.labels(b) = outer ? 1.0 : -1.0;
    }
    return data;
}

} // namespace moesim::model
