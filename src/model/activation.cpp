#include "moesim/model/activation.hpp"

#include "moesim/core/error.hpp"

namespace moesim::model {

std::vector<std::string> activation_names() {
    return {"tanh", "sigmoid", "relu", "gelu"};
}

Activation parse_activation(std::string_view name) {
    if (name == "tanh")
        return Activation::tanh;
    if (name == "sigmoid")
        return Activation::sigmoid;
    if (name == "relu")
        return Activation::relu;
    if (name == "gelu")
        return Activation::gelu;
    throw core::InternalError("unknown activation '" + std::string(name) + "'");
}

} // namespace moesim::model
