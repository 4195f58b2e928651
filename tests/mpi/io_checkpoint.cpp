// io::Checkpointer at 1-4 ranks: a core::StateSet saved under one split of its rows comes back
// bit for bit under another split (a restart at another rank count), replicated arrays come
// back on every rank, a checkpoint that does not match the run is refused naming the array,
// and job records written by one rank alone come back whole.
#include <doctest/doctest.h>

#include "testing.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/state_set.hpp"
#include "moesim/io/checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using moesim::testing::all_ranks;
using moesim::testing::world;
namespace io = moesim::io;
namespace core = moesim::core;

const io::RunInfo run_info{"checkpoint_test", 5, "[run]\nseed = 5\n", "io_checkpoint"};

io::Checkpointer writer(const std::string& path) {
    return io::Checkpointer(world(), path, 0, run_info, "out.h5", std::nullopt);
}

io::Checkpointer reader(const std::string& path) {
    return io::Checkpointer(world(), path, 0, run_info, "out.h5",
                            io::read_checkpoint_info(world(), path));
}

// Value of (global row, column): a closed form, so any split can be checked.
double value_of(std::uint64_t row, std::uint64_t column) {
    return static_cast<double>(row) * 1.5 + static_cast<double>(column) / 3.0 - 7.0;
}

struct Split {
    std::uint64_t begin = 0, count = 0;
};
Split even(std::uint64_t n) {
    const auto r = static_cast<std::uint64_t>(world().rank());
    const auto p = static_cast<std::uint64_t>(world().size());
    return {n * r / p, n * (r + 1) / p - n * r / p};
}
Split last_rank_only(std::uint64_t n) {
    return world().rank() == world().size() - 1 ? Split{0, n} : Split{n, 0};
}

} // namespace

TEST_SUITE("io::Checkpointer") {
    TEST_CASE("a state set saved under one split of its rows restores under another") {
        const std::string path = fmt::format("state_np{}.ckpt.h5", world().size());
        constexpr std::uint64_t n = 11, width = 3;
        for (const bool save_even : {true, false}) {
            CAPTURE(save_even);
            const Split mine = save_even ? even(n) : last_rank_only(n);
            std::vector<double> rows, scalars(n), replicated{0.5, -2.0, 1e300, 4.0};
            for (std::uint64_t r = mine.begin; r < mine.begin + mine.count; ++r) {
                scalars[r - mine.begin] = value_of(r, 9);
                for (std::uint64_t c = 0; c < width; ++c)
                    rows.push_back(value_of(r, c));
            }
            scalars.resize(mine.count);
            {
                core::StateSet state;
                state.distributed("rows", n, mine.begin, {width}, rows)
                    .distributed("scalars", n, mine.begin, {}, scalars)
                    .replicated("table", {2, 2}, replicated);
                auto checkpoint = writer(path);
                checkpoint.due(0);
                checkpoint.save(42, 3, state);
            }
            const auto info = io::read_checkpoint_info(world(), path);
            CHECK(info.step == 42);
            CHECK(info.output_frames == 3);
            CHECK(info.jobs_total == 0);

            const Split other = save_even ? last_rank_only(n) : even(n);
            std::vector<double> back_rows(other.count * width, std::nan("")),
                back_scalars(other.count, std::nan("")), back_table(4, 0.0);
            core::StateSet restored;
            restored.distributed("rows", n, other.begin, {width}, back_rows)
                .distributed("scalars", n, other.begin, {}, back_scalars)
                .replicated("table", {2, 2}, back_table);
            reader(path).restore(restored);
            bool ok = back_table == std::vector<double>{0.5, -2.0, 1e300, 4.0};
            for (std::uint64_t r = other.begin; r < other.begin + other.count; ++r) {
                ok = ok && back_scalars[r - other.begin] == value_of(r, 9);
                for (std::uint64_t c = 0; c < width; ++c)
                    ok = ok && back_rows[(r - other.begin) * width + c] == value_of(r, c);
            }
            CHECK(all_ranks(world(), ok));
        }
    }

    TEST_CASE("a checkpoint that does not match the run is refused, naming the array") {
        const std::string path = fmt::format("mismatch_np{}.ckpt.h5", world().size());
        std::vector<double> values(4, 1.0);
        {
            core::StateSet state;
            state.replicated("weights", {4}, values);
            auto checkpoint = writer(path);
            checkpoint.due(0);
            checkpoint.save(1, 0, state);
        }
        std::vector<double> wrong(5, 0.0);
        core::StateSet other_shape;
        other_shape.replicated("weights", {5}, wrong);
        CHECK_THROWS_WITH_AS(reader(path).restore(other_shape),
                             doctest::Contains("state array 'weights' has shape [1][4]"),
                             core::UsageError);
        core::StateSet missing;
        missing.replicated("bias", {4}, values);
        CHECK_THROWS_WITH_AS(reader(path).restore(missing),
                             doctest::Contains("no state array 'bias'"), core::UsageError);
    }

    TEST_CASE("job records written by one rank alone come back whole on every rank") {
        const std::string path = fmt::format("jobs_np{}.ckpt.h5", world().size());
        io::JobRecords records{20, 2, {3, 17, 0}, {1.0, 2.0, 3.0, 4.0, -1.0, 1e-300}};
        if (world().rank() == world().size() - 1)
            writer(path).save_jobs(records);
        world().barrier();
        const auto info = io::read_checkpoint_info(world(), path);
        CHECK(info.jobs_total == 20);
        CHECK(info.jobs_done == 3);
        const io::JobRecords back = reader(path).restore_jobs();
        CHECK(back.n_jobs == 20);
        CHECK(back.width == 2);
        CHECK(back.ids == records.ids);
        CHECK(back.rows == records.rows);
    }
}
