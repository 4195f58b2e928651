#include "moesim/fit/sigmoid_voronoi_loss.hpp"

#include "moesim/core/error.hpp"
#include "moesim/fit/voronoi_loss.hpp"

#include <cmath>
#include <limits>

namespace moesim::fit {

namespace {

// omega_j = (beta1_j, a_j, b_j).
Eigen::VectorXd atom(const model::SigmoidMoeParams& p, Eigen::Index j) {
    const Eigen::Index d = p.dim();
    Eigen::VectorXd out(2 * d + 1);
    out << p.gate_slope.row(j).transpose(), p.expert_slope.row(j).transpose(), p.expert_bias(j);
    return out;
}

double sigmoid(double g) {
    return 1.0 / (1.0 + std::exp(-g));
}

} // namespace

std::vector<std::string> sigmoid_voronoi_loss_names() {
    return {"voronoi", "gate_mass", "gate_slope", "expert_slope", "expert_bias"};
}

std::vector<double> as_array(const SigmoidVoronoiLoss& loss) {
    return {loss.total, loss.gate_mass, loss.gate_slope, loss.expert_slope, loss.expert_bias};
}

std::vector<std::string> regression_split_cell_loss_names() {
    auto names = split_cell_loss_names();
    names.pop_back(); // split_variance
    return names;
}

std::vector<double> split_cell_array(const SigmoidVoronoiLoss& loss) {
    return {loss.split_gate_slope, loss.split_expert_slope, loss.split_expert_bias};
}

SigmoidVoronoiLoss sigmoid_voronoi_loss(const model::SigmoidMoeParams& fitted,
                                        const model::SigmoidMoeParams& truth, double exponent) {
    fitted.check();
    truth.check();
    core::require(fitted.dim() == truth.dim(), "sigmoid_voronoi_loss: dimensions differ");
    const Eigen::Index k = fitted.experts(), k_true = truth.experts();
    SigmoidVoronoiLoss loss;
    loss.cell.assign(static_cast<std::size_t>(k), 0);
    std::vector<std::vector<Eigen::Index>> members(static_cast<std::size_t>(k_true));
    for (Eigen::Index j = 0; j < k; ++j) {
        const Eigen::VectorXd omega = atom(fitted, j);
        Eigen::Index best = 0;
        double best_dist = std::numeric_limits<double>::infinity();
        for (Eigen::Index i = 0; i < k_true; ++i) {
            const double dist = (omega - atom(truth, i)).squaredNorm();
            if (dist < best_dist) {
                best_dist = dist;
                best = i;
            }
        }
        loss.cell[static_cast<std::size_t>(j)] = best;
        members[static_cast<std::size_t>(best)].push_back(j);
    }
    for (Eigen::Index i = 0; i < k_true; ++i) {
        const auto& cell = members[static_cast<std::size_t>(i)];
        const double power = cell.size() > 1 ? exponent : 1.0;
        double mass = 0.0;
        for (Eigen::Index j : cell) {
            const double w = sigmoid(fitted.gate_bias(j));
            mass += w;
            loss.total += w * std::pow((atom(fitted, j) - atom(truth, i)).norm(), power);
            loss.gate_slope +=
                w * std::pow((fitted.gate_slope.row(j) - truth.gate_slope.row(i)).norm(), power);
            loss.expert_slope += w * std::pow(
                                         (fitted.expert_slope.row(j) - truth.expert_slope.row(i))
                                             .norm(),
                                         power);
            loss.expert_bias +=
                w * std::pow(std::abs(fitted.expert_bias(j) - truth.expert_bias(i)), power);
        }
        if (cell.size() > 1)
            for (Eigen::Index j : cell) {
                // The atom's share of the cell's mass (see fit::VoronoiLoss).
                const double w = sigmoid(fitted.gate_bias(j)) / mass;
                loss.split_gate_slope +=
                    w * (fitted.gate_slope.row(j) - truth.gate_slope.row(i)).norm();
                loss.split_expert_slope +=
                    w * (fitted.expert_slope.row(j) - truth.expert_slope.row(i)).norm();
                loss.split_expert_bias += w * std::abs(fitted.expert_bias(j) - truth.expert_bias(i));
            }
        loss.gate_mass += std::abs(mass - sigmoid(truth.gate_bias(i)));
    }
    loss.total += loss.gate_mass;
    return loss;
}

} // namespace moesim::fit
