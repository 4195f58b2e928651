#include "moesim/model/router.hpp"

#include "moesim/core/error.hpp"

namespace moesim::model {

void Router::backward_into(const RowMatrix& inputs, const Routing& routing, const RowMatrix& dgate,
                           std::span<double> parameter_gradient,
                           Eigen::Ref<RowMatrix> input_gradient) const {
    const std::vector<double> grad = gradient(inputs, routing, dgate);
    const bool inputs_too = input_gradient.rows() > 0;
    core::require(grad.size() == parameter_gradient.size() &&
                      (!inputs_too || (input_gradient.rows() == inputs.rows() &&
                                       input_gradient.cols() == inputs.cols())),
                  "Router::backward_into: a gradient has the wrong size");
    std::copy(grad.begin(), grad.end(), parameter_gradient.begin());
    if (inputs_too)
        input_gradient = this->input_gradient(inputs, routing, dgate);
}

} // namespace moesim::model
