#include "moesim/fit/sigmoid_voronoi_loss.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using moesim::fit::sigmoid_voronoi_loss;
using moesim::model::SigmoidMoeParams;

namespace {

double sigmoid(double g) {
    return 1.0 / (1.0 + std::exp(-g));
}

// Two atoms in d = 1: atom 0 has a constant gate (beta1* = 0), atom 1 a slope.
SigmoidMoeParams truth() {
    SigmoidMoeParams p = SigmoidMoeParams::zeros(2, 1);
    p.gate_slope << 0.0, 2.0;
    p.gate_bias << 0.0, -0.5;
    p.expert_slope << 1.0, -1.5;
    p.expert_bias << 0.5, 0.3;
    return p;
}

} // namespace

TEST_CASE("the sigmoid Voronoi loss is zero at the truth, in any order") {
    const auto t = truth();
    const auto loss = sigmoid_voronoi_loss(t, t);
    CHECK(loss.total == 0.0);
    CHECK(loss.cell == std::vector<Eigen::Index>{0, 1});
    CHECK(sigmoid_voronoi_loss(t.permuted({1, 0}), t).total == 0.0);
    CHECK(sigmoid_voronoi_loss(t.permuted({1, 0}), t).cell == std::vector<Eigen::Index>{1, 0});
}

TEST_CASE("an exact split of a constant-gate atom has zero loss; perturbations add the closed "
          "form") {
    const auto t = truth();
    // Atom 0 split in two: sigma(b) = sigma(0) / 2 = 1/4, b = -log 3.
    SigmoidMoeParams fit = SigmoidMoeParams::zeros(3, 1);
    fit.gate_slope << 0.0, 2.0, 0.0;
    fit.gate_bias << -std::log(3.0), -0.5, -std::log(3.0);
    fit.expert_slope << 1.0, -1.5, 1.0;
    fit.expert_bias << 0.5, 0.3, 0.5;
    CHECK(sigmoid_voronoi_loss(fit, t).total == doctest::Approx(0.0).scale(1.0).epsilon(1e-15));

    // Perturb: split atom 2 moves by (0.1, 0, 0) and (0, 0.2, 0); atom 1 by 0.05 in b.
    SigmoidMoeParams moved = fit;
    moved.gate_slope(0, 0) = 0.1;
    moved.expert_slope(2, 0) = 1.2;
    moved.expert_bias(1) = 0.35;
    moved.gate_bias(1) = -0.4;
    for (double r : {2.0, 3.0}) {
        const auto loss = sigmoid_voronoi_loss(moved, t, r);
        const double mass = std::abs(sigmoid(-0.4) - sigmoid(-0.5));
        // Split atoms weigh sigma(-log 3) = 1/4 each, atom 1 sigma(-0.4).
        CHECK(loss.gate_mass == doctest::Approx(mass));
        CHECK(loss.total == doctest::Approx(mass + 0.25 * std::pow(0.1, r) +
                                            0.25 * std::pow(0.2, r) + sigmoid(-0.4) * 0.05));
        CHECK(loss.gate_slope == doctest::Approx(0.25 * std::pow(0.1, r)));
        CHECK(loss.expert_slope == doctest::Approx(0.25 * std::pow(0.2, r)));
        CHECK(loss.expert_bias == doctest::Approx(sigmoid(-0.4) * 0.05));
        // Relabelling the fitted atoms changes nothing.
        const auto swapped = sigmoid_voronoi_loss(moved.permuted({2, 0, 1}), t, r);
        CHECK(swapped.total == doctest::Approx(loss.total).epsilon(1e-15));
        CHECK(swapped.gate_mass == doctest::Approx(loss.gate_mass).epsilon(1e-15));
    }
}

TEST_CASE("an empty cell costs its whole gate mass; a vanishing extra atom costs little") {
    const auto t = truth();
    SigmoidMoeParams fit = SigmoidMoeParams::zeros(1, 1);
    fit.gate_slope << 0.0;
    fit.expert_slope << 1.0;
    fit.expert_bias << 0.5;
    const auto loss = sigmoid_voronoi_loss(fit, t);
    CHECK(loss.cell == std::vector<Eigen::Index>{0});
    CHECK(loss.total == doctest::Approx(sigmoid(-0.5)));

    // The truth plus a third atom far away with gate bias -30: its mass e^-30 and its
    // distance |omega| both enter, so D = s (1 + |(5, 20, -40) - omega*_0|^2) with s = sigma(-30)...
    SigmoidMoeParams extra = SigmoidMoeParams::zeros(3, 1);
    extra.gate_slope << 0.0, 2.0, 5.0;
    extra.gate_bias << 0.0, -0.5, -30.0;
    extra.expert_slope << 1.0, -1.5, 20.0;
    extra.expert_bias << 0.5, 0.3, -40.0;
    const auto vanishing = sigmoid_voronoi_loss(extra, t, 2.0);
    // ... in cell 0 (nearest: (0, 1, 0.5)), which then holds two atoms (exponent r = 2).
    CHECK(vanishing.cell == std::vector<Eigen::Index>{0, 1, 0});
    const double w = sigmoid(-30.0);
    const double dist2 = 5.0 * 5.0 + 19.0 * 19.0 + 40.5 * 40.5;
    CHECK(vanishing.total == doctest::Approx(w + w * dist2).epsilon(1e-12));
    CHECK(vanishing.total < 1e-9);
}

TEST_CASE("split cells: raw errors weighted by each atom's share of the cell's mass") {
    const auto t = truth();
    // Atom 0 split into copies of masses sigma = 0.3 and 0.2 (shares 0.6 and 0.4), gate slopes
    // off by +0.1 and -0.3, the second's expert bias by +0.05; atom 1 alone, its expert bias
    // off by 0.5 (not a split cell: no raw term).
    SigmoidMoeParams fit = SigmoidMoeParams::zeros(3, 1);
    fit.gate_slope << 0.1, 2.0, -0.3;
    fit.gate_bias << std::log(0.3 / 0.7), -0.5, std::log(0.2 / 0.8);
    fit.expert_slope << 1.0, -1.5, 1.0;
    fit.expert_bias << 0.5, 0.8, 0.55;
    for (const auto& labels : {std::vector<Eigen::Index>{0, 1, 2}, {2, 0, 1}}) {
        const auto loss = sigmoid_voronoi_loss(fit.permuted(labels), t, 2.0);
        CHECK(loss.split_gate_slope == doctest::Approx(0.6 * 0.1 + 0.4 * 0.3).epsilon(1e-12));
        CHECK(loss.split_expert_slope == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
        CHECK(loss.split_expert_bias == doctest::Approx(0.4 * 0.05).epsilon(1e-12));
        // The r = 2 term beside it weighs the masses themselves and squares.
        CHECK(loss.gate_slope == doctest::Approx(0.3 * 0.01 + 0.2 * 0.09).epsilon(1e-12));
        const auto split = moesim::fit::split_cell_array(loss);
        REQUIRE(split.size() == moesim::fit::regression_split_cell_loss_names().size());
        CHECK(split[0] == loss.split_gate_slope);
        CHECK(split[2] == loss.split_expert_bias);
    }
    CHECK(moesim::fit::regression_split_cell_loss_names() ==
          std::vector<std::string>{"split_gate_slope", "split_expert_slope", "split_expert_bias"});
    // No split cell: 0.
    SigmoidMoeParams off = t;
    off.expert_bias << 0.9, -0.1;
    CHECK(sigmoid_voronoi_loss(off, t).split_expert_bias == 0.0);
}
