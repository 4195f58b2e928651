#pragma once
// The classification data of arXiv 2502.05784 (section 5.1, MODELS.md 3.1): points on two
// concentric circles, radius 1 labelled -1 and radius 2 labelled +1, at a uniform angle, with
// Gaussian noise on each coordinate. Sample b is a pure function of (seed, b), so every rank
// and every rank count sees the same data. Users: the propagation-of-chaos experiment, tests.

#include "moesim/model/labelled_data.hpp"

#include <cstdint>

namespace moesim::model {

struct ConcentricCirclesParams {
    std::int64_t samples = 200; ///< n
    double inner_radius = 1.0;  ///< circle of label -1
    double outer_radius = 2.0;  ///< circle of label +1
    /// Standard deviation of the noise added to each coordinate. The paper writes "noise
    /// 0.1" without saying sd or variance; 0.1 is read as an sd (as scikit-learn's
    /// make_circles(noise=...) means it). For a variance v set sqrt(v).
    double noise_sd = 0.1;
};

/// n samples in R^2 with labels +-1. Even ids lie on the inner circle, odd ids on the outer
/// one (so any prefix is balanced to within one sample); the angle of sample b is
/// 2 pi u_b with u_b uniform, all from Philox stream "poc.circles" of `seed` keyed by b.
/// Local. Throws core::InternalError if samples < 1 or noise_sd < 0.
LabelledData concentric_circles(std::uint64_t seed, const ConcentricCirclesParams& params);

} // namespace moesim::model
