#include "moesim/fit/label_matching.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace {

Eigen::MatrixXd random_costs(Eigen::Index k, std::uint64_t id, bool integer) {
    const moesim::core::Philox rng(21, "test.assignment");
    Eigen::MatrixXd cost(k, k);
    for (Eigen::Index i = 0; i < k; ++i)
        for (Eigen::Index j = 0; j < k; ++j) {
            const double u = rng.uniform_pair(id, static_cast<std::uint32_t>(i),
                                              static_cast<std::uint32_t>(j))[0];
            // Integer costs in 0..4 have many ties; continuous ones a unique optimum.
            cost(i, j) = integer ? std::floor(5.0 * u) : 10.0 * u - 3.0;
        }
    return cost;
}

bool is_permutation(const std::vector<Eigen::Index>& p) {
    std::vector<Eigen::Index> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i)
        if (sorted[i] != static_cast<Eigen::Index>(i))
            return false;
    return true;
}

} // namespace

TEST_SUITE("fit::label_matching") {
    TEST_CASE("the Hungarian algorithm finds the exhaustive minimum on random cost matrices") {
        std::uint64_t id = 0;
        for (Eigen::Index k = 1; k <= 8; ++k)
            for (int trial = 0; trial < 200; ++trial)
                for (const bool integer : {false, true}) {
                    CAPTURE(k);
                    CAPTURE(trial);
                    const Eigen::MatrixXd cost = random_costs(k, id++, integer);
                    const auto exhaustive = moesim::fit::min_cost_assignment_exhaustive(cost);
                    const auto hungarian = moesim::fit::min_cost_assignment_hungarian(cost);
                    REQUIRE(is_permutation(hungarian.column_of_row));
                    CHECK(hungarian.cost == doctest::Approx(exhaustive.cost).epsilon(1e-12));
                    if (!integer) // unique optimum: the same permutation
                        CHECK(hungarian.column_of_row == exhaustive.column_of_row);
                }
    }

    TEST_CASE("beyond the exhaustive range the Hungarian minimum beats every permutation tried") {
        for (Eigen::Index k : {9, 12, 20, 40}) {
            const Eigen::MatrixXd cost = random_costs(k, 10000 + std::uint64_t(k), false);
            const auto best = moesim::fit::min_cost_assignment(cost);
            REQUIRE(is_permutation(best.column_of_row));
            std::vector<Eigen::Index> perm(static_cast<std::size_t>(k));
            std::iota(perm.begin(), perm.end(), Eigen::Index{0});
            const moesim::core::Philox rng(3, "test.shuffle");
            for (int trial = 0; trial < 2000; ++trial) {
                // A random transposition walk from the optimum: never cheaper.
                std::vector<Eigen::Index> other = best.column_of_row;
                for (int swap = 0; swap < 1 + trial % 5; ++swap) {
                    const auto u = rng.uniform_pair(std::uint64_t(trial), std::uint32_t(swap), 0);
                    std::swap(other[std::size_t(u[0] * double(k))],
                              other[std::size_t(u[1] * double(k))]);
                }
                double c = 0.0;
                for (Eigen::Index i = 0; i < k; ++i)
                    c += cost(i, other[std::size_t(i)]);
                CHECK(c >= best.cost - 1e-12);
            }
            // A planted permutation with zero cost among positive costs is found.
            Eigen::MatrixXd planted = cost.array() + 4.0;
            for (Eigen::Index i = 0; i < k; ++i)
                planted(i, (3 * i + 1) % k) = 0.0;
            if (std::gcd(3, static_cast<int>(k)) == 1) {
                const auto found = moesim::fit::min_cost_assignment_hungarian(planted);
                CHECK(found.cost == 0.0);
                for (Eigen::Index i = 0; i < k; ++i)
                    CHECK(found.column_of_row[std::size_t(i)] == (3 * i + 1) % k);
            }
        }
    }

    TEST_CASE("match_means undoes a relabelling of noisy estimates") {
        Eigen::MatrixXd truth(4, 2);
        truth << 1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0;
        const std::vector<Eigen::Index> shuffle = {2, 0, 3, 1};
        Eigen::MatrixXd estimated(4, 2);
        for (Eigen::Index i = 0; i < 4; ++i)
            estimated.row(shuffle[std::size_t(i)]) = truth.row(i) + Eigen::RowVector2d(0.05, -0.02);
        const auto match = moesim::fit::match_means(estimated, truth);
        CHECK(match.column_of_row == shuffle);
        CHECK(match.cost == doctest::Approx(4 * (0.05 * 0.05 + 0.02 * 0.02)));
        CHECK_THROWS_AS(moesim::fit::match_means(estimated.topRows(3), truth),
                        moesim::core::InternalError);
    }
}
