#pragma once
// A fixed random orthonormal frame: Gram-Schmidt on Gaussian vectors drawn in a fixed order,
// so every rank builds the same geometry from the same stream. Users: the synthetic data
// models (model/clustered_single_index, model/mixture_of_linear_experts).

#include "moesim/core/philox.hpp"
#include "moesim/model/row_matrix.hpp"

namespace moesim::model {

/// `rows` orthonormal rows of length `dim` (rows <= dim): row i starts as the standard normals
/// of counter (i, step 0) of `stream`, then is orthogonalised against rows 0..i-1 (twice, for
/// orthogonality to rounding) and normalised. Local.
RowMatrix orthonormal_gaussian_rows(const core::Philox& stream, Eigen::Index rows,
                                    Eigen::Index dim);

} // namespace moesim::model
