#include "moesim/core/error.hpp"
#include "moesim/core/state_set.hpp"

#include <doctest/doctest.h>

#include <vector>

using moesim::core::InternalError;
using moesim::core::StateSet;

TEST_SUITE("core::StateSet") {
    TEST_CASE("arrays are listed in registration order with their shapes") {
        std::vector<double> rows(6), table(4);
        StateSet state;
        state.distributed("theta", 10, 4, {3}, rows).replicated("table", {2, 2}, table);
        REQUIRE(state.arrays().size() == 2);
        const auto& theta = state.arrays()[0];
        CHECK(theta.name == "theta");
        CHECK(theta.distributed);
        CHECK(theta.n_local() == 2);
        CHECK(theta.row_size() == 3);
        CHECK(theta.first_row == 4);
        const auto& replicated = state.arrays()[1];
        CHECK_FALSE(replicated.distributed);
        CHECK(replicated.row_size() == 4);
        CHECK(replicated.values.data() == table.data());
    }

    TEST_CASE("a rank may hold no rows") {
        StateSet state;
        CHECK_NOTHROW(state.distributed("empty", 5, 5, {2}, {}));
        CHECK(state.arrays()[0].n_local() == 0);
    }

    TEST_CASE("bad registrations are bugs, caught at once") {
        std::vector<double> five(5), four(4);
        StateSet state;
        state.replicated("a", {4}, four);
        CHECK_THROWS_AS(state.replicated("a", {4}, four), InternalError); // name taken
        CHECK_THROWS_AS(state.replicated("", {4}, four), InternalError);
        CHECK_THROWS_AS(state.replicated("b", {2, 3}, four), InternalError);      // 6 != 4
        CHECK_THROWS_AS(state.distributed("c", 10, 0, {2}, five), InternalError); // half a row
        CHECK_THROWS_AS(state.distributed("d", 3, 2, {2}, four), InternalError);  // rows past 3
    }
}
