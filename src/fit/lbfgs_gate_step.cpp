#include "fit/lbfgs_gate_step.hpp"

#include "moesim/fit/lbfgs.hpp"
#include "moesim/fit/tempered_gate_objective.hpp"
#include "moesim/model/tempered_gate.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

namespace moesim::fit {

std::vector<std::string> gate_optimizer_names() {
    return {"newton", "lbfgs"};
}

GateOptimizer parse_gate_optimizer(std::string_view name) {
    if (name == "newton")
        return GateOptimizer::newton;
    if (name == "lbfgs")
        return GateOptimizer::lbfgs;
    throw core::InternalError(fmt::format("parse_gate_optimizer: unknown optimizer '{}'", name));
}

bool lbfgs_gate_step(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::MatrixXd& resp,
                     const EmSettings& settings, model::MoeParams& params) {
    const LbfgsSettings lbfgs{.max_iterations = settings.gate_lbfgs_iterations};
    if (const auto* tempered = dynamic_cast<const model::TemperedGate*>(&gate)) {
        model::MoeParams trial = params;
        auto minus_q = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& gradient) {
            unpack_tempered_gate(theta, trial);
            const auto q = tempered_gate_objective(*tempered, x, resp, trial);
            gradient = -q.gradient;
            return -q.value;
        };
        unpack_tempered_gate(minimize_lbfgs(minus_q, pack_tempered_gate(params), lbfgs).x, params);
        return true;
    }
    if (gate.full_support() && settings.gate_optimizer == GateOptimizer::lbfgs) {
        model::MoeParams trial = params;
        auto minus_q = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& gradient) {
            unpack_gate(theta, trial);
            const auto q = gate_objective(gate, x, resp, trial, false);
            gradient = -q.gradient;
            return -q.value;
        };
        unpack_gate(minimize_lbfgs(minus_q, pack_gate(params), lbfgs).x, params);
        return true;
    }
    return false;
}

} // namespace moesim::fit
