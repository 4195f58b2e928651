// Placement of independent systems on ranks (par::SystemPlan): every system's particles are
// covered once, big systems span several ranks, small ones share ranks, all_ranks systems
// span everything, and no rank is given more ranks' worth of a system than it has blocks.
#include "moesim/core/error.hpp"
#include "moesim/par/system_layout.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

using namespace moesim;
using par::SystemSpec;

namespace {

// Every (system, particle) held by exactly one rank; groups disjoint and in rank order.
void check_cover(const par::SystemPlan& plan) {
    for (std::size_t s = 0; s < plan.n_systems(); ++s) {
        std::vector<int> held(plan.system(s).particles, 0);
        for (int r = 0; r < plan.nranks(); ++r) {
            const par::IdRange ids = plan.particles_on(s, r);
            for (std::uint64_t id = ids.begin; id < ids.end; ++id)
                ++held[id];
            const auto on = plan.systems_on(r);
            CHECK((std::find(on.begin(), on.end(), s) != on.end()) == plan.ranks_of(s).contains(r));
        }
        CAPTURE(s);
        CHECK(std::all_of(held.begin(), held.end(), [](int h) { return h == 1; }));
        const auto ranks = plan.ranks_of(s);
        CHECK(ranks.count >= 1);
        CHECK(ranks.first + ranks.count <= plan.nranks());
        if (plan.system(s).all_ranks) {
            CHECK(ranks == par::RankRange{0, plan.nranks()});
            CHECK(plan.group_of(s) == -1);
        } else {
            CHECK(plan.group_ranks(plan.group_of(s)) == ranks);
            CHECK(static_cast<std::uint64_t>(ranks.count) <= plan.partition_of(s).n_blocks());
        }
    }
    int next = 0;
    for (int g = 0; g < plan.n_groups(); ++g) {
        CHECK(plan.group_ranks(g).first == next);
        next += plan.group_ranks(g).count;
        for (int r = plan.group_ranks(g).first; r < next; ++r)
            CHECK(plan.group_of_rank(r) == g);
    }
    CHECK(next <= plan.nranks());
}

std::vector<SystemSpec> sweep(std::initializer_list<std::uint64_t> sizes, int copies) {
    std::vector<SystemSpec> systems;
    for (std::uint64_t n : sizes)
        for (int m = 0; m < copies; ++m)
            systems.push_back({.particles = n});
    return systems;
}

} // namespace

TEST_SUITE("par::SystemPlan") {
    TEST_CASE("more systems than ranks: systems share ranks, balanced by particles") {
        auto systems = sweep({50, 100, 150, 200, 250, 300, 350, 400, 450, 500}, 20);
        systems.push_back({.particles = 10000, .all_ranks = true});
        for (int nranks : {1, 2, 3, 4, 7, 16}) {
            const par::SystemPlan plan(systems, 64, nranks);
            CAPTURE(nranks);
            check_cover(plan);
            const auto load = plan.balanced_load();
            const double total = std::accumulate(load.begin(), load.end(), 0.0);
            CHECK(total == 55000.0);
            // LPT on near-equal jobs: within one largest system (500) of the mean.
            for (double l : load)
                CHECK(std::abs(l - total / nranks) <= 500.0);
            CHECK(plan.ranks_of(systems.size() - 1) == par::RankRange{0, nranks});
        }
    }

    TEST_CASE("fewer systems than ranks: each system spans several ranks") {
        const par::SystemPlan plan(sweep({1000}, 2), 64, 4);
        check_cover(plan);
        CHECK(plan.n_groups() == 2);
        CHECK(plan.ranks_of(0) == par::RankRange{0, 2});
        CHECK(plan.ranks_of(1) == par::RankRange{2, 2});
        // Three unequal systems on four ranks: the big one takes three, the others share one.
        const par::SystemPlan mixed({{.particles = 1000}, {.particles = 100}, {.particles = 100}},
                                    64, 4);
        check_cover(mixed);
        CHECK(mixed.ranks_of(0) == par::RankRange{0, 3});
        CHECK(mixed.ranks_of(1) == par::RankRange{3, 1});
        CHECK(mixed.ranks_of(2) == par::RankRange{3, 1});
    }

    TEST_CASE("a system never gets more ranks than blocks; spare ranks stay idle") {
        const par::SystemPlan plan({{.particles = 50}}, 64, 4);
        check_cover(plan);
        CHECK(plan.ranks_of(0) == par::RankRange{0, 1});
        CHECK(plan.group_of_rank(1) == -1);
        CHECK(plan.systems_on(3).empty());
        const par::SystemPlan two({{.particles = 200}, {.particles = 130}}, 64, 8);
        check_cover(two);
        CHECK(two.ranks_of(0).count + two.ranks_of(1).count <= 4 + 3);
        CHECK(two.ranks_of(0).count == 4); // 200 particles: 4 blocks of 64
    }

    TEST_CASE("only all_ranks systems: no groups, every rank runs them") {
        const par::SystemPlan plan({{.particles = 5, .all_ranks = true}}, 2, 4);
        check_cover(plan);
        CHECK(plan.n_groups() == 0);
        CHECK(plan.systems_on(3) == std::vector<std::size_t>{0});
        CHECK_THROWS_AS(par::SystemPlan({{.particles = 0}}, 2, 4), core::InternalError);
    }
}
