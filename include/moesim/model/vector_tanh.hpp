#pragma once
// tanh over a whole matrix of pre-activations, vectorised: Eigen 3.4 has a packet exp for
// double but no packet tanh, and scalar std::tanh costs ~4x more per element. The bits of an
// element depend only on its index in the matrix and the matrix's shape, never on which rank
// computes it. Users: model/scaled_tanh_network (the same kernel as model/mean_field_network's
// private copy, which can switch to this header).

#include <Eigen/Core>

namespace moesim::model {

/// Replaces every entry z of `values` by tanh(z): Cephes' rational approximation for
/// |z| < 0.625, else copysign(1 - 2 / (exp(2|z|) + 1), z). Within 2 ulp of std::tanh; NaN
/// and +-inf are kept. Local.
void tanh_in_place(Eigen::MatrixXd& values);

} // namespace moesim::model
