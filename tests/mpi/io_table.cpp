// io::write_replicated at 1-4 ranks: scalars, vectors, matrices and empty tables read back
// exactly, with parent groups created on the way.
#include <doctest/doctest.h>

#include "testing.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/output_file.hpp"
#include "moesim/io/read.hpp"
#include "moesim/io/table.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {
using moesim::testing::all_ranks;
using moesim::testing::world;
namespace io = moesim::io;
} // namespace

TEST_SUITE("io::table") {
    TEST_CASE("replicated tables of every shape read back exactly") {
        const std::string path = fmt::format("table_np{}.h5", world().size());
        {
            auto file = io::OutputFile::create(world(), path, true,
                                               {"table_test", 3, "[run]\nseed = 3\n", "io_table"});
            const double slope = -0.5;
            io::write_replicated(file, "/estimates/voronoi/slope", {}, std::span(&slope, 1));
            std::vector<double> matrix;
            for (int i = 0; i < 12; ++i)
                matrix.push_back(i / 7.0);
            io::write_replicated(file, "/estimates/voronoi/loss", {3, 4}, matrix);
            const std::vector<std::int64_t> counts{1000, 2000, -5};
            io::write_replicated(file, "/estimates/fits/iterations", {3}, counts);
            io::write_replicated(file, "/estimates/empty", {0}, std::span<const double>());
            file.set_status(io::Status::complete);
            file.close();
        }
        bool ok = true;
        if (world().rank() == 0) {
            const auto slope = io::read_float64(path, "/estimates/voronoi/slope");
            ok = ok && slope.shape.empty() && slope.values == std::vector<double>{-0.5};
            const auto loss = io::read_float64(path, "/estimates/voronoi/loss");
            ok = ok && loss.shape == std::vector<std::uint64_t>{3, 4} && loss.values.size() == 12;
            for (std::size_t i = 0; ok && i < 12; ++i)
                ok = loss.values[i] == static_cast<double>(i) / 7.0;
            const auto iterations = io::read_int64(path, "/estimates/fits/iterations");
            ok = ok && iterations.values == std::vector<std::int64_t>{1000, 2000, -5};
            const auto empty = io::read_float64(path, "/estimates/empty");
            ok = ok && empty.shape == std::vector<std::uint64_t>{0} && empty.values.empty();
        }
        CHECK(all_ranks(world(), ok));
    }

    TEST_CASE("a rank passing the wrong number of values is an error on every rank") {
        const std::string path = fmt::format("table_bad_np{}.h5", world().size());
        auto file = io::OutputFile::create(world(), path, true,
                                           {"table_test", 3, "[run]\nseed = 3\n", "io_table"});
        std::vector<double> values(world().rank() == world().size() - 1 ? 2 : 3, 1.0);
        CHECK_THROWS_AS(io::write_replicated(file, "/bad", {3}, values),
                        moesim::core::InternalError);
        file.close();
    }
}
