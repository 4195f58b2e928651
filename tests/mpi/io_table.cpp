// io::write_replicated (float64 and int64) at 1-4 ranks: the values every rank holds land once,
// whole, in the shape asked for, including a scalar and an empty dataset; a size mismatch on one
// rank is the same error on all.
#include <doctest/doctest.h>

#include "testing.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/read.hpp"
#include "moesim/io/table.hpp"

#include <fmt/format.h>

#include <vector>

namespace io = moesim::io;
using moesim::testing::all_ranks;
using moesim::testing::world;

TEST_SUITE("io::write_replicated") {
    TEST_CASE("replicated values land whole in the requested shape, and can be rewritten") {
        const std::string path = fmt::format("replicated_np{}.h5", world().size());
        const std::vector<double> matrix = {1.5, -2.0, 3.25, 4.0, 5.0, -1.0};
        {
            auto file = io::OutputFile::create(world(), path, true,
                                               {"replicated_test", 3, "[run]\nseed = 3\n", "t"});
            io::write_replicated(file, "/estimates/matrix", {2, 3}, matrix);
            const std::vector<std::int64_t> counts = {3, -1, 1LL << 40};
            io::write_replicated(file, "/estimates/counts", {3}, counts);
            const double scalar = 0.125;
            io::write_replicated(file, "/estimates/scalar", {}, std::span(&scalar, 1));
            io::write_replicated(file, "/estimates/empty", {0}, std::span<const double>());
            // Written again (a restarted run): overwritten in place; another shape is refused.
            const double first = -1.0, again = 0.125;
            io::write_replicated(file, "/estimates/rewritten", {1}, std::span(&first, 1));
            io::write_replicated(file, "/estimates/rewritten", {1}, std::span(&again, 1));
            CHECK_THROWS_AS(io::write_replicated(file, "/estimates/matrix", {3, 2}, matrix),
                            moesim::core::IoError);
            // One rank passing the wrong count: every rank gets the same InternalError.
            const std::vector<double> two = {1, 2};
            const auto wrong = world().rank() == world().size() - 1
                                   ? std::span<const double>(two)
                                   : std::span<const double>(two).first(1);
            CHECK_THROWS_AS(io::write_replicated(file, "/estimates/wrong", {1}, wrong),
                            moesim::core::InternalError);
            file.close();
        }
        bool ok = true;
        if (world().rank() == 0) {
            const auto m = io::read_float64(path, "/estimates/matrix");
            CHECK(m.shape == std::vector<std::uint64_t>{2, 3});
            CHECK(m.values == matrix);
            const auto s = io::read_float64(path, "/estimates/scalar");
            CHECK(s.shape.empty());
            CHECK(s.values == std::vector<double>{0.125});
            const auto e = io::read_float64(path, "/estimates/empty");
            CHECK(e.shape == std::vector<std::uint64_t>{0});
            const auto c = io::read_int64(path, "/estimates/counts");
            CHECK(c.values == std::vector<std::int64_t>{3, -1, 1LL << 40});
            ok = ok && c.values == std::vector<std::int64_t>{3, -1, 1LL << 40};
            const auto r = io::read_float64(path, "/estimates/rewritten");
            CHECK(r.values == std::vector<double>{0.125});
            ok = ok && m.values == matrix && s.values.size() == 1 && e.values.empty() &&
                 r.values == std::vector<double>{0.125};
        }
        CHECK(all_ranks(world(), ok));
    }
}
