#pragma once
// The mean-field network's activation pass, fused: one sweep over a block's pre-activations
// applies tanh, adds the activations to the per-sample partial sums and stores 1 - tanh^2 for
// the gradient, in plain arithmetic GCC vectorises (Eigen 3.4 has no packet tanh for double).
// Users: MeanFieldNetwork::predict, tests/unit/model_fused_tanh.cpp.

#include <cstddef>

namespace moesim::model::impl {

/// tanh(z), within 6 ulp of std::tanh (tests/unit/model_fused_tanh.cpp measures it); NaN and
/// +-inf kept. Exactly the arithmetic tanh_accumulate applies to each element. Local.
double tanh_value(double z) noexcept;

/// For i < n: a = tanh_value(z[i]), sums[i] += a, derivative[i] = 1 - a * a. Each element's
/// bits are the same whether it goes down a vector or a scalar path, so they depend only on
/// z[i] and sums[i]. The ranges must not overlap. Local.
void tanh_accumulate(const double* z, std::size_t n, double* sums, double* derivative) noexcept;

} // namespace moesim::model::impl
