#include "moesim/model/activation.hpp"

#include "moesim/core/error.hpp"

namespace moesim::model {

std::vector<std::string> activation_names() {
    return {"tanh", "sigmoid", "relu", "gelu", "he2"};
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
    if (name == "he2")
        return Activation::he2;
    throw core::InternalError("unknown activation '" + std::string(name) + "'");
}

} // namespace moesim::model
