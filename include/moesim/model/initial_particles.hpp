#pragma once
// The initial law of a mean-field particle system, N(0, sd^2 I): row i of this rank's
// particles is drawn from the counter (first_id + i, step 0) of the system's init stream, so a
// particle's start depends on its global id alone, never on the rank that holds it.
// Users: model/mean_field_langevin (mfld), model/full_batch_langevin (poc).

#include "moesim/core/philox.hpp"
#include "moesim/model/row_matrix.hpp"

#include <cstdint>

namespace moesim::model {

/// Overwrites every row of `theta` (this rank's particles, global ids first_id, first_id + 1,
/// ...) with sd times a row of standard normals of `init_stream`. Local.
void fill_initial_particles(const core::Philox& init_stream, std::uint64_t first_id, double sd,
                            RowMatrix& theta);

} // namespace moesim::model
