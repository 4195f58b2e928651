// The sharded k-NN entropy estimate: the same bits as the serial one on every communicator
// size, for both neighbour searches, with ranks that own no point.
#include "testing.hpp"

#include "moesim/core/philox.hpp"
#include "moesim/model/knn_entropy.hpp"

#include <boost/mpi/collectives.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

using namespace moesim;
using model::RowMatrix;

TEST_SUITE("model::knn_entropy (sharded)") {
    TEST_CASE("the sharded estimate has the serial estimate's bits at every size") {
        const auto& world = testing::world();
        const core::Philox rng(8, "test.knn.sharded");
        struct Setting {
            std::uint64_t n, block;
            Eigen::Index dim;
            model::KnnEntropyOptions options;
        };
        // 6 points in blocks of 4: at 3 and 4 ranks some ranks own nothing.
        for (const Setting& s :
             {Setting{37, 4, 3, {}}, Setting{6, 4, 2, {.k = 2}}, Setting{45, 8, 24, {.k = 3}},
              Setting{30, 4, 5, {.search = model::NeighbourSearch::brute_force}}}) {
            RowMatrix cloud(static_cast<Eigen::Index>(s.n), s.dim);
            for (Eigen::Index i = 0; i < cloud.rows(); ++i)
                rng.fill_normal(std::uint64_t(i), 0,
                                std::span<double>(cloud.row(i).data(), std::size_t(s.dim)));
            const double serial = model::knn_entropy(cloud, s.options, s.block);
            CHECK(std::isfinite(serial));
            for (int size = 1; size <= world.size(); ++size) {
                const bool member = world.rank() < size;
                const auto sub = world.split(member ? 0 : 1);
                if (!member)
                    continue;
                const par::BlockPartition partition(s.n, s.block, size);
                const par::IdRange mine = partition.items_of(sub.rank());
                const RowMatrix local = cloud.middleRows(static_cast<Eigen::Index>(mine.begin),
                                                         static_cast<Eigen::Index>(mine.size()));
                const double sharded = model::knn_entropy(sub, partition, local, s.options);
                CAPTURE(s.n);
                CAPTURE(s.dim);
                CAPTURE(size);
                CHECK(std::memcmp(&sharded, &serial, sizeof(double)) == 0);
            }
        }
    }
}
