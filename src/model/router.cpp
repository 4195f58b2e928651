#include "moesim/model/router.hpp"

#include "moesim/core/error.hpp"

namespace moesim::model {

void Router::backward_into(const RowMatrix& inputs, const Routing& routing, const RowMatrix& dgate,
                           std::span<double> parameter_gradient,
                           Eigen::Ref<RowMatrix> input_gradient) const {
    const std::vector<double> grad = gradient(inputs, routing, dgate);
    core::require(grad.size() == parameter_gradient.size() &&
                      input_gradient.rows() == inputs.rows() &&
                      input_gradient.cols() == inputs.cols(),
                  "Router::backward_into: a gradient has the wrong size");
    std::copy(grad.begin(), grad.end(), parameter_gradient.begin());
    input_gradient = this->input_gradient(inputs, routing, dgate);
}

} // namespace moesim::model
