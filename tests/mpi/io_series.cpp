// io::Series at 1-4 ranks: every rank count writes the same datasets, bit for bit, including
// ranks that own no rows and frames of zero size; writes really are collective.
#include <doctest/doctest.h>

#include "testing.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/output_file.hpp"
#include "moesim/io/read.hpp"
#include "moesim/io/series.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using moesim::testing::all_ranks;
using moesim::testing::world;
namespace io = moesim::io;

std::string file_name(const char* base) {
    return fmt::format("{}_np{}.h5", base, world().size());
}

io::OutputFile create_file(const std::string& path) {
    return io::OutputFile::create(world(), path, true,
                                  {"series_test", 7, "[run]\nseed = 7\n", "io_series"});
}

// The value a distributed series holds at (frame, global row, column): a closed form, so a
// reader can check every byte without knowing how rows were split.
double closed_form(std::uint64_t frame, std::uint64_t row, std::uint64_t column) {
    return static_cast<double>(frame) * 1000.0 + static_cast<double>(row) * 0.5 +
           static_cast<double>(column) / 7.0;
}

struct Rows {
    std::uint64_t begin = 0;
    std::uint64_t count = 0;
};

// Contiguous near-equal split in rank order.
Rows even_split(std::uint64_t n_global) {
    const auto rank = static_cast<std::uint64_t>(world().rank());
    const auto nranks = static_cast<std::uint64_t>(world().size());
    const std::uint64_t begin = n_global * rank / nranks;
    return {begin, n_global * (rank + 1) / nranks - begin};
}

// Every row on the last rank: all other ranks own none.
Rows last_rank_only(std::uint64_t n_global) {
    return world().rank() == world().size() - 1 ? Rows{0, n_global} : Rows{n_global, 0};
}

std::vector<double> frame_rows(std::uint64_t frame, Rows rows, std::uint64_t columns) {
    std::vector<double> values;
    for (std::uint64_t r = rows.begin; r < rows.begin + rows.count; ++r)
        for (std::uint64_t c = 0; c < columns; ++c)
            values.push_back(closed_form(frame, r, c));
    return values;
}

// Rank 0 reads the series back serially and checks shape, step, time and every value.
bool check_distributed(const std::string& path, const std::string& series, std::uint64_t frames,
                       std::uint64_t n_global, std::uint64_t columns) {
    if (world().rank() != 0)
        return true;
    bool ok = true;
    const auto value = io::read_float64(path, series + "/value");
    const std::vector<std::uint64_t> shape{frames, n_global, columns};
    CHECK(value.shape == shape);
    ok = ok && value.shape == shape;
    std::uint64_t mismatches = 0;
    if (value.values.size() == frames * n_global * columns) {
        for (std::uint64_t f = 0; f < frames; ++f)
            for (std::uint64_t r = 0; r < n_global; ++r)
                for (std::uint64_t c = 0; c < columns; ++c)
                    if (value.values[(f * n_global + r) * columns + c] != closed_form(f, r, c))
                        ++mismatches;
    }
    CHECK(mismatches == 0);
    const auto step = io::read_int64(path, series + "/step");
    const auto time = io::read_float64(path, series + "/time");
    std::vector<std::int64_t> expected_step;
    std::vector<double> expected_time;
    for (std::uint64_t f = 0; f < frames; ++f) {
        expected_step.push_back(static_cast<std::int64_t>(10 * f));
        expected_time.push_back(0.25 * static_cast<double>(f));
    }
    CHECK(step.values == expected_step);
    CHECK(time.values == expected_time);
    return ok && mismatches == 0 && step.values == expected_step && time.values == expected_time;
}

void write_distributed(io::OutputFile& file, const std::string& series, std::uint64_t frames,
                       std::uint64_t n_global, std::uint64_t columns,
                       Rows (*split)(std::uint64_t)) {
    auto writer = io::Series::distributed(file, series, n_global, {columns});
    const Rows rows = split(n_global);
    for (std::uint64_t f = 0; f < frames; ++f)
        writer.append(static_cast<std::int64_t>(10 * f), 0.25 * static_cast<double>(f),
                      frame_rows(f, rows, columns));
    CHECK(writer.frames() == frames);
}

} // namespace

TEST_SUITE("io::Series") {

    TEST_CASE("distributed rows land at their global offsets, identically at every rank count") {
        const auto& comm = world();
        const std::string path = file_name("series_distributed");
        {
            auto file = create_file(path);
            write_distributed(file, "/particles/x", 4, 10, 3, even_split);
            // 50000 x 4 doubles = 1.6 MB per frame: chunks are capped below one frame.
            write_distributed(file, "/particles/big", 2, 50000, 4, even_split);
            file.set_status(io::Status::complete);
            file.close();
        }
        bool ok = check_distributed(path, "/particles/x", 4, 10, 3);
        ok = check_distributed(path, "/particles/big", 2, 50000, 4) && ok;
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("ranks that own no rows still take part, also with fewer rows than ranks") {
        const auto& comm = world();
        const std::string path = file_name("series_empty_ranks");
        {
            auto file = create_file(path);
            write_distributed(file, "/particles/one_row", 3, 1, 2, even_split);
            write_distributed(file, "/particles/last_rank", 3, 5, 2, last_rank_only);
            write_distributed(file, "/particles/fewer_rows", 2, 3, 1, even_split);
            file.close();
        }
        bool ok = check_distributed(path, "/particles/one_row", 3, 1, 2);
        ok = check_distributed(path, "/particles/last_rank", 3, 5, 2) && ok;
        ok = check_distributed(path, "/particles/fewer_rows", 2, 3, 1) && ok;
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("frames of zero size are appended without writing") {
        const auto& comm = world();
        const std::string path = file_name("series_zero");
        {
            auto file = create_file(path);
            auto empty_rows = io::Series::distributed(file, "/particles/none", 0, {2});
            auto empty_columns = io::Series::distributed(file, "/particles/no_columns", 6, {0});
            auto empty_vector = io::Series::replicated(file, "/observables/nothing", {0});
            for (int f = 0; f < 3; ++f) {
                empty_rows.append(10 * f, 0.25 * f, {});
                empty_columns.append(10 * f, 0.25 * f, {});
                empty_vector.append(10 * f, 0.25 * f, {});
                CHECK_FALSE(empty_rows.last_write_was_collective());
            }
            file.close();
        }
        bool ok = true;
        if (comm.rank() == 0) {
            const auto none = io::read_float64(path, "/particles/none/value");
            CHECK(none.shape == std::vector<std::uint64_t>{3, 0, 2});
            const auto no_columns = io::read_float64(path, "/particles/no_columns/value");
            CHECK(no_columns.shape == std::vector<std::uint64_t>{3, 6, 0});
            const auto nothing = io::read_float64(path, "/observables/nothing/value");
            CHECK(nothing.shape == std::vector<std::uint64_t>{3, 0});
            const auto step = io::read_int64(path, "/particles/none/step");
            CHECK(step.values == std::vector<std::int64_t>{0, 10, 20});
            ok = none.shape == std::vector<std::uint64_t>{3, 0, 2} && none.values.empty() &&
                 no_columns.shape == std::vector<std::uint64_t>{3, 6, 0} &&
                 step.values == std::vector<std::int64_t>{0, 10, 20};
        }
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("replicated scalar and vector observables are written once per frame") {
        const auto& comm = world();
        const std::string path = file_name("series_replicated");
        {
            auto file = create_file(path);
            auto loss = io::Series::replicated(file, "/observables/loss", {});
            auto load = io::Series::replicated(file, "/observables/load", {5});
            auto matrix = io::Series::replicated(file, "/observables/overlap", {2, 3});
            for (int f = 0; f < 6; ++f) {
                const double scalar = 1.0 / (1.0 + f);
                loss.append(100 + f, 0.5 * f, std::vector<double>{scalar});
                std::vector<double> vector;
                for (int i = 0; i < 5; ++i)
                    vector.push_back(f * 10.0 + i);
                load.append(100 + f, 0.5 * f, vector);
                std::vector<double> entries;
                for (int i = 0; i < 6; ++i)
                    entries.push_back(-f - i / 4.0);
                matrix.append(100 + f, 0.5 * f, entries);
            }
            file.close();
        }
        bool ok = true;
        if (comm.rank() == 0) {
            const auto loss = io::read_float64(path, "/observables/loss/value");
            const auto load = io::read_float64(path, "/observables/load/value");
            const auto matrix = io::read_float64(path, "/observables/overlap/value");
            const auto step = io::read_int64(path, "/observables/load/step");
            const auto time = io::read_float64(path, "/observables/overlap/time");
            std::vector<double> expected_loss, expected_load, expected_matrix, expected_time;
            std::vector<std::int64_t> expected_step;
            for (int f = 0; f < 6; ++f) {
                expected_loss.push_back(1.0 / (1.0 + f));
                for (int i = 0; i < 5; ++i)
                    expected_load.push_back(f * 10.0 + i);
                for (int i = 0; i < 6; ++i)
                    expected_matrix.push_back(-f - i / 4.0);
                expected_step.push_back(100 + f);
                expected_time.push_back(0.5 * f);
            }
            CHECK(loss.shape == std::vector<std::uint64_t>{6});
            CHECK(load.shape == std::vector<std::uint64_t>{6, 5});
            CHECK(matrix.shape == std::vector<std::uint64_t>{6, 2, 3});
            CHECK(loss.values == expected_loss);
            CHECK(load.values == expected_load);
            CHECK(matrix.values == expected_matrix);
            CHECK(step.values == expected_step);
            CHECK(time.values == expected_time);
            ok = loss.values == expected_loss && load.values == expected_load &&
                 matrix.values == expected_matrix && step.values == expected_step &&
                 time.values == expected_time &&
                 matrix.shape == std::vector<std::uint64_t>{6, 2, 3};
        }
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("frames appended in batches land as if appended one by one, also on a restart") {
        const auto& comm = world();
        const std::string path = file_name("series_batched");
        // Frame f: step 10 f, time f / 4, values (f, f + 1/3, f + 2/3) (a closed form).
        auto values_of = [](int first, int count) {
            std::vector<double> values;
            for (int f = first; f < first + count; ++f)
                for (int i = 0; i < 3; ++i)
                    values.push_back(f + i / 3.0);
            return values;
        };
        auto steps_of = [](int first, int count) {
            std::vector<std::int64_t> steps;
            for (int f = first; f < first + count; ++f)
                steps.push_back(10 * f);
            return steps;
        };
        auto times_of = [](int first, int count) {
            std::vector<double> times;
            for (int f = first; f < first + count; ++f)
                times.push_back(f / 4.0);
            return times;
        };
        {
            auto file = create_file(path);
            auto load = io::Series::replicated(file, "/observables/load", {3});
            load.append_frames(steps_of(0, 4), times_of(0, 4), values_of(0, 4));
            load.append(40, 1.0, values_of(4, 1));
            load.append_frames({}, {}, {}); // nothing to write
            load.append_frames(steps_of(5, 3), times_of(5, 3), values_of(5, 3));
            CHECK(load.frames() == 8);
            file.close();
        }
        {
            // Resume at step 60: frames 6 and 7 are dropped and written again in one batch.
            auto file = io::OutputFile::open_for_restart(world(), path, 60);
            auto load = io::Series::replicated(file, "/observables/load", {3});
            CHECK(load.frames() == 6);
            load.append_frames(steps_of(6, 3), times_of(6, 3), values_of(6, 3));
            file.close();
        }
        bool ok = true;
        if (comm.rank() == 0) {
            const auto load = io::read_float64(path, "/observables/load/value");
            const auto step = io::read_int64(path, "/observables/load/step");
            const auto time = io::read_float64(path, "/observables/load/time");
            CHECK(load.shape == std::vector<std::uint64_t>{9, 3});
            CHECK(load.values == values_of(0, 9));
            CHECK(step.values == steps_of(0, 9));
            CHECK(time.values == times_of(0, 9));
            ok = load.values == values_of(0, 9) && step.values == steps_of(0, 9) &&
                 time.values == times_of(0, 9);
        }
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("batched frames of the wrong size are a collective InternalError") {
        const auto& comm = world();
        auto file = create_file(file_name("series_batched_sizes"));
        auto load = io::Series::replicated(file, "/observables/load", {2});
        // Two steps but, on rank 0 only, values for three frames: every rank must throw.
        const std::vector<std::int64_t> steps{0, 1};
        const std::vector<double> times{0.0, 1.0};
        std::vector<double> values(comm.rank() == 0 ? 6 : 4, 1.0);
        CHECK_THROWS_AS(load.append_frames(steps, times, values), moesim::core::InternalError);
        CHECK(load.frames() == 0);
        file.close();
    }

    TEST_CASE("a distributed write where every rank has rows is collective") {
        const auto& comm = world();
        const std::string path = file_name("series_collective");
        auto file = create_file(path);
        const std::uint64_t n_global = 8 * static_cast<std::uint64_t>(comm.size());
        auto writer = io::Series::distributed(file, "/particles/x", n_global, {3});
        writer.append(0, 0.0, frame_rows(0, even_split(n_global), 3));
        // Also at one rank: HDF5 1.10.8 keeps the MPI-IO collective path for a single process.
        CHECK(writer.last_write_was_collective());
        auto loss = io::Series::replicated(file, "/observables/loss", {});
        loss.append(0, 0.0, std::vector<double>{1.0});
        CHECK(loss.last_write_was_collective());
        const bool ok = writer.last_write_was_collective() && loss.last_write_was_collective();
        file.close();
        REQUIRE(all_ranks(comm, ok));
    }

    TEST_CASE("wrong value counts are a collective InternalError, not a hang") {
        const auto& comm = world();
        const std::string path = file_name("series_sizes");
        auto file = create_file(path);
        auto loss = io::Series::replicated(file, "/observables/loss", {2});
        // Only rank 0 passes the wrong count: every rank must throw.
        std::vector<double> values(comm.rank() == 0 ? 3 : 2, 1.0);
        CHECK_THROWS_AS(loss.append(0, 0.0, values), moesim::core::InternalError);
        auto rows = io::Series::distributed(file, "/particles/x", 4, {2});
        // Each rank passes one row: the total is nranks, not 4 (except at 4 ranks).
        if (comm.size() != 4)
            CHECK_THROWS_AS(rows.append(0, 0.0, std::vector<double>{1.0, 2.0}),
                            moesim::core::InternalError);
        CHECK(loss.frames() == 0);
        file.close();
    }

} // TEST_SUITE
