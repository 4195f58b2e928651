#include "moesim/model/expert_function.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

#include <cmath>

namespace moesim::model {

namespace {

double gelu_derivative(double z) noexcept {
    return 0.5 * (1.0 + std::erf(z * M_SQRT1_2)) + z * std::exp(-0.5 * z * z) * 0.5 * M_2_SQRTPI *
                                                          M_SQRT1_2;
}

} // namespace

std::vector<std::string> expert_kind_names() {
    return {"linear", "tanh", "sigmoid", "gelu", "relu", "polynomial"};
}

ExpertKind parse_expert_kind(std::string_view name) {
    if (name == "linear")
        return ExpertKind::linear;
    if (name == "tanh")
        return ExpertKind::tanh;
    if (name == "sigmoid")
        return ExpertKind::sigmoid;
    if (name == "gelu")
        return ExpertKind::gelu;
    if (name == "relu")
        return ExpertKind::relu;
    if (name == "polynomial")
        return ExpertKind::polynomial;
    throw core::InternalError(fmt::format("parse_expert_kind: unknown expert kind '{}'", name));
}

double ExpertFunction::value(double z) const noexcept {
    switch (kind) {
    case ExpertKind::linear:
        return z;
    case ExpertKind::tanh:
        return std::tanh(z);
    case ExpertKind::sigmoid:
        return 1.0 / (1.0 + std::exp(-z));
    case ExpertKind::relu:
        return z > 0.0 ? z : 0.0;
    case ExpertKind::gelu:
        return 0.5 * z * (1.0 + std::erf(z * M_SQRT1_2));
    case ExpertKind::polynomial: {
        double out = 1.0;
        for (int e = 0; e < degree; ++e)
            out *= z;
        return out;
    }
    }
    return 0.0;
}

double ExpertFunction::derivative(double z) const noexcept {
    switch (kind) {
    case ExpertKind::linear:
        return 1.0;
    case ExpertKind::tanh: {
        const double t = std::tanh(z);
        return 1.0 - t * t;
    }
    case ExpertKind::sigmoid: {
        const double s = 1.0 / (1.0 + std::exp(-z));
        return s * (1.0 - s);
    }
    case ExpertKind::relu:
        return z > 0.0 ? 1.0 : 0.0;
    case ExpertKind::gelu:
        return gelu_derivative(z);
    case ExpertKind::polynomial: {
        double out = static_cast<double>(degree);
        for (int e = 1; e < degree; ++e)
            out *= z;
        return out;
    }
    }
    return 0.0;
}

void ExpertFunction::evaluate(const Eigen::VectorXd& u, Eigen::VectorXd& value_out,
                              Eigen::VectorXd& derivative_out) const {
    const Eigen::Index n = u.size();
    value_out.resize(n);
    derivative_out.resize(n);
    for (Eigen::Index m = 0; m < n; ++m) {
        const double z = u(m);
        switch (kind) {
        case ExpertKind::tanh: { // one tanh for both
            const double t = std::tanh(z);
            value_out(m) = t;
            derivative_out(m) = 1.0 - t * t;
            break;
        }
        case ExpertKind::sigmoid: {
            const double s = 1.0 / (1.0 + std::exp(-z));
            value_out(m) = s;
            derivative_out(m) = s * (1.0 - s);
            break;
        }
        default:
            value_out(m) = value(z);
            derivative_out(m) = derivative(z);
        }
    }
}

} // namespace moesim::model
