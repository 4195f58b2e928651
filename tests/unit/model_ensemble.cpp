// Merging systems' predictions: copies of one system merge to it exactly, a merge is the
// mean of its members, the distances, and the draws of M members out of M_max.
#include "moesim/core/error.hpp"
#include "moesim/model/ensemble.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>

using namespace moesim;
using model::RowMatrix;

TEST_SUITE("model::ensemble") {
    TEST_CASE("merging M copies of one system gives that system's prediction exactly") {
        const core::Philox rng(4, "test.ensemble");
        RowMatrix predictions(3, 37);
        for (Eigen::Index s = 0; s < 3; ++s)
            rng.fill_normal(std::uint64_t(s), 0, std::span<double>(predictions.row(s).data(), 37));
        predictions.row(2) = predictions.row(1);
        for (std::size_t m : {1u, 2u, 3u, 7u, 20u}) {
            RowMatrix copies(static_cast<Eigen::Index>(m), 37);
            copies.rowwise() = predictions.row(1);
            std::vector<std::size_t> members(m);
            for (std::size_t i = 0; i < m; ++i)
                members[i] = i;
            const Eigen::VectorXd merged = model::merge_predictions(copies, members);
            CAPTURE(m);
            CHECK(std::memcmp(merged.data(), predictions.row(1).data(), 37 * sizeof(double)) == 0);
        }
        const std::vector<std::size_t> twins = {1, 2, 2, 1};
        const Eigen::VectorXd merged = model::merge_predictions(predictions, twins);
        CHECK(std::memcmp(merged.data(), predictions.row(1).data(), 37 * sizeof(double)) == 0);
    }

    TEST_CASE("a merge is the mean of its members' predictions") {
        const core::Philox rng(5, "test.ensemble");
        RowMatrix predictions(6, 11);
        for (Eigen::Index s = 0; s < 6; ++s)
            rng.fill_normal(std::uint64_t(s), 0, std::span<double>(predictions.row(s).data(), 11));
        const std::vector<std::size_t> members = {0, 2, 3, 5};
        const Eigen::VectorXd merged = model::merge_predictions(predictions, members);
        for (Eigen::Index b = 0; b < 11; ++b) {
            const double mean =
                (predictions(0, b) + predictions(2, b) + predictions(3, b) + predictions(5, b)) / 4;
            CHECK(merged(b) == doctest::Approx(mean).epsilon(1e-14));
        }
        CHECK_THROWS_AS(model::merge_predictions(predictions, std::vector<std::size_t>{}),
                        core::InternalError);
        CHECK_THROWS_AS(model::merge_predictions(predictions, std::vector<std::size_t>{6}),
                        core::InternalError);
    }

    TEST_CASE("sup-norm and L2 distances on a test set") {
        Eigen::VectorXd a(4), b(4);
        a << 1, 2, 3, 4;
        b << 1, 0, 4, 4;
        CHECK(model::sup_distance(a, b) == 2.0);
        CHECK(model::l2_distance(a, b) == doctest::Approx(std::sqrt(5.0 / 4)));
        CHECK(model::sup_distance(a, a) == 0.0);
        CHECK(model::l2_distance(a, a) == 0.0);
    }

    TEST_CASE("draws of M out of M_max are distinct, sorted, reproducible and uniform") {
        const core::Philox stream(9, "poc.ensemble");
        std::vector<int> hits(20, 0);
        const int draws = 4000;
        for (std::uint64_t draw = 0; draw < draws; ++draw) {
            const auto members = model::draw_members(stream, draw, 5, 20);
            REQUIRE(members.size() == 5);
            CHECK(std::set<std::size_t>(members.begin(), members.end()).size() == 5);
            CHECK(std::is_sorted(members.begin(), members.end()));
            CHECK(members.back() < 20);
            for (std::size_t m : members)
                ++hits[m];
            if (draw < 3)
                CHECK(model::draw_members(stream, draw, 5, 20) == members);
        }
        // Each index is drawn with probability 1/4: binomial sd sqrt(4000 * 3/16) = 27.4.
        for (int h : hits)
            CHECK(std::abs(h - 1000) < 4 * 27.4);
        const auto all = model::draw_members(stream, 0, 20, 20);
        for (std::size_t i = 0; i < 20; ++i)
            CHECK(all[i] == i);
        CHECK_THROWS_AS(model::draw_members(stream, 0, 21, 20), core::InternalError);
    }
}
