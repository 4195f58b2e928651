#pragma once
// A fixed labelled data set (inputs one row per sample, one label each) and its split into a
// training and a test part, for full-batch training on a set generated once (the paper's
// epochs), as opposed to the fresh sample streams of the other experiments.
// Users: model/concentric_circles, model/multi_index_regression, model/full_batch_langevin.

#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

namespace moesim::model {

/// n samples: inputs (n x d) and labels (n), row b is sample b. Every rank holds all of it.
struct LabelledData {
    RowMatrix inputs;
    Eigen::VectorXd labels;
    Eigen::Index size() const noexcept { return labels.size(); }
    Eigen::Index dim() const noexcept { return inputs.cols(); }
};

struct TrainTestSplit {
    LabelledData train;
    LabelledData test;
};

/// Samples [0, n_train) train and [n_train, n) test, n_train = round(train_fraction * n).
/// The generators draw samples independently by id, so this fixed split is a random split
/// of an i.i.d. sample, and it keeps any balance the generator builds in by id. Local.
/// Throws core::InternalError unless 0 < n_train < n.
TrainTestSplit split_train_test(const LabelledData& data, double train_fraction);

} // namespace moesim::model
