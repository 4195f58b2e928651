#include "moesim/fit/voronoi_loss.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace moesim::fit {

namespace {

// Translates every gate by minus the exp(bias)-weighted (slope, log-mass) of `members`.
void translate_by(model::MoeParams& params, const std::vector<Eigen::Index>& members) {
    double mass = 0.0;
    Eigen::RowVectorXd slope = Eigen::RowVectorXd::Zero(params.dim());
    // Shift by the largest bias first so exp() cannot overflow.
    double shift = -std::numeric_limits<double>::infinity();
    for (Eigen::Index j : members)
        shift = std::max(shift, params.gate_bias(j));
    for (Eigen::Index j : members) {
        const double w = std::exp(params.gate_bias(j) - shift);
        mass += w;
        slope += w * params.gate_slope.row(j);
    }
    params.gate_slope.rowwise() -= slope / mass;
    params.gate_bias.array() -= shift + std::log(mass);
}

std::vector<Eigen::Index> all_experts(const model::MoeParams& params) {
    std::vector<Eigen::Index> out;
    for (Eigen::Index j = 0; j < params.experts(); ++j)
        out.push_back(j);
    return out;
}

// The atom omega_j, stacked: (gate slope, expert slope, expert bias, variance).
Eigen::VectorXd atom(const model::MoeParams& p, Eigen::Index j) {
    const Eigen::Index d = p.dim();
    Eigen::VectorXd out(2 * d + 2);
    out << p.gate_slope.row(j).transpose(), p.expert_slope.row(j).transpose(), p.expert_bias(j),
        p.variance(j);
    return out;
}

// Softmax-form copies of a tempered gate's parameters: logits beta1'x/tau + beta0/tau, so gate
// masses are exp(beta0/tau); the slopes stay raw unless scale_slope.
model::MoeParams with_scaled_gate(const model::MoeParams& p, bool scale_slope) {
    model::MoeParams out = p;
    out.gate_bias /= p.temperature;
    if (scale_slope)
        out.gate_slope /= p.temperature;
    out.temperature = 1.0;
    return out;
}

} // namespace

std::vector<std::string> gate_gauge_names() {
    return {"last_cell", "weighted"};
}

GateGauge parse_gate_gauge(std::string_view name) {
    if (name == "last_cell")
        return GateGauge::last_cell;
    if (name == "weighted")
        return GateGauge::weighted;
    throw core::InternalError(fmt::format("parse_gate_gauge: unknown gauge '{}'", name));
}

std::vector<std::string> voronoi_loss_names() {
    return {"voronoi", "gate_mass", "gate_slope", "expert_slope", "expert_bias", "variance"};
}

std::vector<double> as_array(const VoronoiLoss& loss) {
    return {loss.total,        loss.gate_mass,   loss.gate_slope,
            loss.expert_slope, loss.expert_bias, loss.variance};
}

std::vector<std::string> split_cell_loss_names() {
    return {"split_gate_slope", "split_expert_slope", "split_expert_bias", "split_variance"};
}

std::vector<double> split_cell_array(const VoronoiLoss& loss) {
    return {loss.split_gate_slope, loss.split_expert_slope, loss.split_expert_bias,
            loss.split_variance};
}

std::vector<std::string> tempered_loss_names() {
    auto names = voronoi_loss_names();
    names.insert(names.end(), {"temperature", "gate_slope_scaled"});
    return names;
}

std::vector<double> tempered_losses(const model::MoeParams& fitted, const model::MoeParams& truth,
                                    const VoronoiSettings& settings) {
    const double temperature_error = std::abs(fitted.temperature - truth.temperature);
    const VoronoiLoss raw =
        voronoi_loss(with_scaled_gate(fitted, false), with_scaled_gate(truth, false), settings);
    const VoronoiLoss scaled =
        voronoi_loss(with_scaled_gate(fitted, true), with_scaled_gate(truth, true), settings);
    auto out = as_array(raw);
    out[0] += temperature_error;
    out.insert(out.end(), {temperature_error, scaled.gate_slope});
    return out;
}

std::vector<std::string> tempered_split_cell_loss_names() {
    auto names = split_cell_loss_names();
    names.emplace_back("split_gate_slope_scaled");
    return names;
}

std::vector<double> tempered_split_cell_losses(const model::MoeParams& fitted,
                                               const model::MoeParams& truth,
                                               const VoronoiSettings& settings) {
    auto out = split_cell_array(
        voronoi_loss(with_scaled_gate(fitted, false), with_scaled_gate(truth, false), settings));
    out.push_back(
        voronoi_loss(with_scaled_gate(fitted, true), with_scaled_gate(truth, true), settings)
            .split_gate_slope);
    return out;
}

model::MoeParams weighted_gauge(const model::MoeParams& params) {
    model::MoeParams out = params;
    translate_by(out, all_experts(out));
    return out;
}

VoronoiLoss voronoi_loss(const model::MoeParams& fitted, const model::MoeParams& truth,
                         const VoronoiSettings& settings) {
    fitted.check();
    truth.check();
    core::require(fitted.dim() == truth.dim(), "voronoi_loss: dimensions differ");
    const Eigen::Index k = fitted.experts(), k_true = truth.experts();
    model::MoeParams fit = weighted_gauge(fitted);
    model::MoeParams ref = weighted_gauge(truth);

    VoronoiLoss loss;
    loss.cell.assign(static_cast<std::size_t>(k), 0);
    std::vector<std::vector<Eigen::Index>> members(static_cast<std::size_t>(k_true));
    for (Eigen::Index j = 0; j < k; ++j) {
        const Eigen::VectorXd omega = atom(fit, j);
        Eigen::Index best = 0;
        double best_dist = std::numeric_limits<double>::infinity();
        for (Eigen::Index i = 0; i < k_true; ++i) {
            const double dist = (omega - atom(ref, i)).squaredNorm();
            if (dist < best_dist) {
                best_dist = dist;
                best = i;
            }
        }
        loss.cell[static_cast<std::size_t>(j)] = best;
        members[static_cast<std::size_t>(best)].push_back(j);
    }

    if (settings.gauge == GateGauge::last_cell) {
        ref = truth.last_gate_zero();
        const auto& last_cell = members[static_cast<std::size_t>(k_true - 1)];
        // An empty last cell leaves nothing to anchor the fit to; keep the weighted gauge
        // for the fit and put the truth into it too.
        if (last_cell.empty())
            ref = weighted_gauge(truth);
        else
            translate_by(fit, last_cell);
    }

    const double r = settings.exponent;
    for (Eigen::Index i = 0; i < k_true; ++i) {
        const auto& cell = members[static_cast<std::size_t>(i)];
        double mass = 0.0;
        const double power = cell.size() > 1 ? r : 1.0;
        for (Eigen::Index j : cell) {
            const double w = std::exp(fit.gate_bias(j));
            mass += w;
            loss.total += w * std::pow((atom(fit, j) - atom(ref, i)).norm(), power);
            loss.gate_slope +=
                w * std::pow((fit.gate_slope.row(j) - ref.gate_slope.row(i)).norm(), power);
            loss.expert_slope +=
                w * std::pow((fit.expert_slope.row(j) - ref.expert_slope.row(i)).norm(), power);
            loss.expert_bias +=
                w * std::pow(std::abs(fit.expert_bias(j) - ref.expert_bias(i)), power);
            loss.variance += w * std::pow(std::abs(fit.variance(j) - ref.variance(i)), power);
        }
        if (cell.size() > 1)
            for (Eigen::Index j : cell) {
                // Weighted by the share of the cell's mass, not by the mass itself: a cell of
                // small true mass would otherwise hide its parameters' errors.
                const double w = std::exp(fit.gate_bias(j)) / mass;
                loss.split_gate_slope += w * (fit.gate_slope.row(j) - ref.gate_slope.row(i)).norm();
                loss.split_expert_slope +=
                    w * (fit.expert_slope.row(j) - ref.expert_slope.row(i)).norm();
                loss.split_expert_bias += w * std::abs(fit.expert_bias(j) - ref.expert_bias(i));
                loss.split_variance += w * std::abs(fit.variance(j) - ref.variance(i));
            }
        loss.gate_mass += std::abs(mass - std::exp(ref.gate_bias(i)));
    }
    loss.total += loss.gate_mass;
    return loss;
}

} // namespace moesim::fit
