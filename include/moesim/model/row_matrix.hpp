#pragma once
// The matrix type of sample batches and particle clouds: row-major, a row per sample or per
// particle, the layout HDF5 stores and MPI exchanges, so rows go to files and messages as
// contiguous runs. Users: every model and experiment that holds rows.

#include <Eigen/Core>

namespace moesim::model {

/// Row-major dynamic matrix of doubles.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

} // namespace moesim::model
