#include "moesim/fit/voronoi_loss.hpp"

#include "moesim/core/philox.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

using moesim::fit::GateGauge;
using moesim::fit::VoronoiSettings;
using moesim::model::MoeParams;

namespace {

MoeParams random_params(Eigen::Index k, Eigen::Index d, std::uint64_t item) {
    const moesim::core::Philox rng(17, "test.params");
    MoeParams p = MoeParams::zeros(k, d);
    Eigen::VectorXd z(k * (2 * d + 3));
    rng.fill_normal(item, 0, std::span<double>(z.data(), static_cast<std::size_t>(z.size())));
    Eigen::Index at = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
        for (Eigen::Index c = 0; c < d; ++c) {
            p.gate_slope(j, c) = z(at++);
            p.expert_slope(j, c) = z(at++);
        }
        p.gate_bias(j) = z(at++);
        p.expert_bias(j) = z(at++);
        p.variance(j) = std::exp(0.3 * z(at++));
    }
    return p;
}

MoeParams translated(MoeParams p, double slope_shift, double bias_shift) {
    p.gate_slope.array() += slope_shift;
    p.gate_bias.array() += bias_shift;
    return p;
}

// Truth: two atoms with equal gates, experts a = +1 and a = -1 (d = 1).
MoeParams hand_truth() {
    MoeParams p = MoeParams::zeros(2, 1);
    p.expert_slope << 1.0, -1.0;
    return p;
}

// Fit: gate masses 0.2, 0.2, 0.6 (before an arbitrary translation); atoms 0 and 1 near true
// atom 0 (a = 1.1 and 0.8), atom 2 at true atom 1 with variance 1.5.
MoeParams hand_fit() {
    MoeParams p = MoeParams::zeros(3, 1);
    p.gate_bias << std::log(0.2), std::log(0.2), std::log(0.6);
    p.expert_slope << 1.1, 0.8, -1.0;
    p.variance << 1.0, 1.0, 1.5;
    return translated(p, 0.3, 0.7);
}

} // namespace

TEST_SUITE("fit::voronoi_loss") {
    TEST_CASE("the loss is zero at the truth, up to relabelling and gate translation") {
        for (GateGauge gauge : {GateGauge::last_cell, GateGauge::weighted}) {
            const MoeParams truth = random_params(3, 2, 1);
            const VoronoiSettings settings{2.0, gauge};
            CHECK(moesim::fit::voronoi_loss(truth, truth, settings).total <
                  1e-14); // gauge rounding
            const MoeParams relabelled = translated(truth.permuted({2, 0, 1}), -0.4, 1.3);
            const auto loss = moesim::fit::voronoi_loss(relabelled, truth, settings);
            CHECK(loss.total < 1e-13);
            CHECK(loss.cell == std::vector<Eigen::Index>{2, 0, 1});
        }
    }

    TEST_CASE("the loss is invariant to permuting the fitted experts") {
        const MoeParams truth = random_params(3, 2, 2);
        for (std::uint64_t trial = 0; trial < 5; ++trial) {
            const MoeParams fitted = random_params(5, 2, 10 + trial);
            for (GateGauge gauge : {GateGauge::last_cell, GateGauge::weighted}) {
                const VoronoiSettings settings{2.0, gauge};
                const auto base = moesim::fit::voronoi_loss(fitted, truth, settings);
                std::vector<Eigen::Index> order{0, 1, 2, 3, 4};
                int permutations = 0;
                while (std::next_permutation(order.begin(), order.end()) && permutations < 30) {
                    ++permutations;
                    const auto loss =
                        moesim::fit::voronoi_loss(fitted.permuted(order), truth, settings);
                    CHECK(loss.total == doctest::Approx(base.total).epsilon(1e-12));
                    CHECK(loss.gate_mass == doctest::Approx(base.gate_mass).epsilon(1e-12));
                    CHECK(loss.variance == doctest::Approx(base.variance).epsilon(1e-12));
                    for (std::size_t j = 0; j < order.size(); ++j)
                        CHECK(loss.cell[j] == base.cell[static_cast<std::size_t>(order[j])]);
                }
            }
        }
    }

    TEST_CASE("a hand-computed case with one split cell") {
        SUBCASE("weighted gauge: masses 0.2 + 0.2 vs 0.5 and 0.6 vs 0.5") {
            const auto loss =
                moesim::fit::voronoi_loss(hand_fit(), hand_truth(), {2.0, GateGauge::weighted});
            CHECK(loss.cell == std::vector<Eigen::Index>{0, 0, 1});
            CHECK(loss.gate_mass == doctest::Approx(0.2).epsilon(1e-12));
            // Split cell, r = 2: 0.2 * 0.1^2 + 0.2 * 0.2^2; singleton: 0.6 * 0.5.
            CHECK(loss.expert_slope == doctest::Approx(0.2 * 0.01 + 0.2 * 0.04).epsilon(1e-12));
            CHECK(loss.variance == doctest::Approx(0.6 * 0.5).epsilon(1e-12));
            CHECK(loss.gate_slope == doctest::Approx(0.0).scale(1e-12));
            CHECK(loss.total == doctest::Approx(0.2 + 0.01 + 0.3).epsilon(1e-12));
        }
        SUBCASE("r = 1 makes the split cell linear") {
            const auto loss =
                moesim::fit::voronoi_loss(hand_fit(), hand_truth(), {1.0, GateGauge::weighted});
            CHECK(loss.total == doctest::Approx(0.2 + 0.2 * 0.1 + 0.2 * 0.2 + 0.3).epsilon(1e-12));
        }
        SUBCASE("last-cell gauge: atom 2 anchors the fit, masses 1/3 + 1/3 vs 1 and 1 vs 1") {
            const auto loss =
                moesim::fit::voronoi_loss(hand_fit(), hand_truth(), {2.0, GateGauge::last_cell});
            CHECK(loss.gate_mass == doctest::Approx(1.0 / 3.0).epsilon(1e-12));
            CHECK(loss.total ==
                  doctest::Approx(1.0 / 3.0 + 1.0 * 0.5 + (0.01 + 0.04) / 3.0).epsilon(1e-12));
        }
    }

    TEST_CASE("split cells: raw parameter errors beside the r-th power ones") {
        // Truth: two atoms (d = 1). Fitted: atom 0 exactly, atom 1 (the last, gate 0) split
        // into two copies with equal gates (so each carries gate mass 1/2 in the last_cell
        // gauge) and expert slopes off by +0.1 and -0.3.
        MoeParams truth = MoeParams::zeros(2, 1);
        truth.gate_slope << 1.0, 0.0;
        truth.gate_bias << 0.3, 0.0;
        truth.expert_slope << 1.0, -1.0;
        truth.expert_bias << 0.5, -0.5;
        truth.variance << 0.3, 0.2;
        MoeParams fitted = MoeParams::zeros(3, 1);
        fitted.gate_slope << 1.0, 0.0, 0.0;
        fitted.gate_bias << 0.3 + std::log(2.0), 0.0, 0.0;
        fitted.expert_slope << 1.0, -0.9, -1.3;
        fitted.expert_bias << 0.5, -0.5, -0.5;
        fitted.variance << 0.3, 0.2, 0.2;
        const auto loss = moesim::fit::voronoi_loss(fitted, truth, {2.0, GateGauge::last_cell});
        REQUIRE(loss.cell == std::vector<Eigen::Index>{0, 1, 1});
        CHECK(loss.expert_slope == doctest::Approx(0.5 * 0.01 + 0.5 * 0.09).epsilon(1e-12));
        CHECK(loss.split_expert_slope == doctest::Approx(0.5 * 0.1 + 0.5 * 0.3).epsilon(1e-12));
        CHECK(loss.split_gate_slope == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
        CHECK(loss.split_expert_bias == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
        CHECK(loss.split_variance == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
        const auto split = moesim::fit::split_cell_array(loss);
        CHECK(split.size() == moesim::fit::split_cell_loss_names().size());
        CHECK(split[1] == loss.split_expert_slope);
        // No split cell: the raw split errors are 0, even though the atoms are off.
        MoeParams exact = truth;
        exact.expert_slope << 1.2, -0.7;
        const auto unsplit = moesim::fit::voronoi_loss(exact, truth);
        CHECK(unsplit.expert_slope > 0.0);
        CHECK(unsplit.split_expert_slope == 0.0);
    }
}
