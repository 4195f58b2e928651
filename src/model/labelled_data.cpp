#include "moesim/model/labelled_data.hpp"

#include "moesim/core/error.hpp"

#include <cmath>

namespace moesim::model {

TrainTestSplit split_train_test(const LabelledData& data, double train_fraction) {
    const Eigen::Index n = data.size();
    const auto n_train = static_cast<Eigen::Index>(std::llround(train_fraction * double(n)));
    core::require(data.inputs.rows() == n, "split_train_test: inputs and labels differ in length");
    core::require(n_train > 0 && n_train < n,
                  "split_train_test: the split must leave both parts non-empty");
    TrainTestSplit split;
    split.train.inputs = data.inputs.topRows(n_train);
    split.train.labels = data.labels.head(n_train);
    split.test.inputs = data.inputs.bottomRows(n - n_train);
    split.test.labels = data.labels.tail(n - n_train);
    return split;
}

} // namespace moesim::model
