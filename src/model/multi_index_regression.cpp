#include "moesim/model/multi_index_regression.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <cmath>
#include <span>

namespace moesim::model {

std::vector<std::string> radius_law_names() {
    return {"uniform_ball", "uniform_radius", "sphere"};
}

RadiusLaw parse_radius_law(std::string_view name) {
    if (name == "uniform_ball")
        return RadiusLaw::uniform_ball;
    if (name == "uniform_radius")
        return RadiusLaw::uniform_radius;
    if (name == "sphere")
        return RadiusLaw::sphere;
    throw core::InternalError("unknown radius law '" + std::string(name) + "'");
}

LabelledData multi_index_regression(std::uint64_t seed, const MultiIndexParams& params) {
    core::require(params.samples >= 1 && params.dim >= 1 && params.indices >= 1 &&
                      params.indices <= params.dim,
                  "multi_index_regression: need samples, dim >= 1 and 1 <= indices <= dim");
    core::require(params.radius >= 0 && params.label_noise_sd >= 0,
                  "multi_index_regression: radius and label_noise_sd must be non-negative");
    const core::Philox rng(seed, "poc.multi_index");
    const Eigen::Index d = params.dim;
    LabelledData data;
    data.inputs.resize(params.samples, d);
    data.labels.resize(params.samples);
    for (Eigen::Index b = 0; b < params.samples; ++b) {
        const auto id = static_cast<std::uint64_t>(b);
        auto z = data.inputs.row(b);
        // Direction: a normalised standard normal vector (counter step 0).
        rng.fill_normal(id, 0, std::span<double>(z.data(), static_cast<std::size_t>(d)));
        const double u = rng.uniform_pair(id, 1, 0)[0];
        double length = params.radius;
        if (params.radius_law == RadiusLaw::uniform_ball)
            length *= std::pow(u, 1.0 / static_cast<double>(d));
        else if (params.radius_law == RadiusLaw::uniform_radius)
            length *= u;
        z *= length / z.norm();
        double sum = 0.0;
        for (Eigen::Index j = 0; j < params.indices; ++j)
            sum += std::tanh(z(j));
        double y = params.label_scale * sum / static_cast<double>(params.indices);
        if (params.label_noise_sd > 0)
            y += params.label_noise_sd * rng.normal_pair(id, 2, 0)[0];
        data.labels(b) = y;
    }
    return data;
}

} // namespace moesim::model
