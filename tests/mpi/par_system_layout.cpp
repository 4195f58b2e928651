// Systems on sub-communicators (par::SystemLayout): every (system, particle) is held exactly
// once, for fewer and more systems than ranks and for a reference on every rank; each
// system's communicator really is its own; and results of systems run through the layout
// have the bits of the same systems run alone.
#include "testing.hpp"

#include "moesim/model/concentric_circles.hpp"
#include "moesim/model/full_batch_langevin.hpp"
#include "moesim/par/deterministic_sum.hpp"
#include "moesim/par/system_layout.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

using namespace moesim;
using par::SystemSpec;

namespace {

std::vector<SystemSpec> systems_of(std::initializer_list<std::uint64_t> sizes,
                                   std::uint64_t reference) {
    std::vector<SystemSpec> systems;
    for (std::uint64_t n : sizes)
        systems.push_back({.particles = n});
    if (reference > 0)
        systems.push_back({.particles = reference, .all_ranks = true});
    return systems;
}

} // namespace

TEST_SUITE("par::SystemLayout") {
    TEST_CASE("every (system, particle) is held exactly once, by a working communicator") {
        const auto& world = testing::world();
        const std::uint64_t block = 4;
        // 2 systems (fewer than 3-4 ranks), 7 (more), a reference alone, 1 tiny system.
        for (const auto& systems :
             {systems_of({40, 40}, 30), systems_of({9, 17, 4, 30, 12, 5, 21}, 26),
              systems_of({}, 10), systems_of({3}, 0)}) {
            const par::SystemLayout layout(world, systems, block);
            const auto& plan = layout.plan();
            // (system, begin, end) of every local system, from its own communicator's view.
            std::vector<double> held;
            bool ok = true;
            for (std::size_t s : layout.local_systems()) {
                const auto& comm = layout.comm_of(s);
                const par::BlockPartition partition = plan.partition_of(s);
                ok = ok && comm.size() == plan.ranks_of(s).count &&
                     comm.rank() == world.rank() - plan.ranks_of(s).first &&
                     layout.leads(s) == (comm.rank() == 0);
                const par::IdRange ids = partition.items_of(comm.rank());
                ok = ok && ids == plan.particles_on(s, world.rank());
                held.insert(held.end(), {double(s), double(ids.begin), double(ids.end)});
                // A collective over the system's communicator counts its particles.
                std::vector<double> ones(ids.size(), 1.0);
                ok = ok &&
                     par::deterministic_sum(comm, partition, ones) == double(systems[s].particles);
            }
            CHECK(ok);
            const auto all = testing::gather_all(world, held.data(), held.size());
            std::vector<std::vector<int>> count(systems.size());
            for (std::size_t s = 0; s < systems.size(); ++s)
                count[s].assign(systems[s].particles, 0);
            for (std::size_t at = 0; at + 2 < all.size(); at += 3)
                for (auto id = std::uint64_t(all[at + 1]); id < std::uint64_t(all[at + 2]); ++id)
                    ++count[std::size_t(all[at])][id];
            bool once = true;
            for (const auto& c : count)
                for (int h : c)
                    once = once && h == 1;
            CAPTURE(systems.size());
            CHECK(testing::all_ranks(world, once));
            for (std::size_t s = 0; s < systems.size(); ++s)
                if (systems[s].all_ranks)
                    CHECK(plan.ranks_of(s) == par::RankRange{0, world.size()});
        }
    }

    TEST_CASE("systems run through the layout have the bits of the same systems run alone") {
        const auto& world = testing::world();
        const auto data =
            model::split_train_test(model::concentric_circles(6, {.samples = 30}), 0.8);
        const model::FullBatchLangevinParams params{.learning_rate = 0.1, .scale = 10.0};
        const auto systems = systems_of({13, 6, 21, 9, 2}, 17);
        const std::uint64_t block = 4;
        const auto width = static_cast<std::size_t>(data.test.size()) + 2;
        // One system's record: test predictions, last training loss, second moment.
        auto run = [&](const boost::mpi::communicator& comm, std::size_t s) {
            model::FullBatchLangevin dyn(
                comm, par::BlockPartition(systems[s].particles, block, comm.size()), data.train,
                params, model::system_seed(12, s));
            dyn.initialize(1.0);
            double loss = 0;
            for (std::uint64_t step = 0; step < 6; ++step)
                loss = dyn.step(step);
            const Eigen::VectorXd f = dyn.predict(data.test);
            std::vector<double> row(f.data(), f.data() + f.size());
            row.push_back(loss);
            row.push_back(dyn.second_moment());
            return row;
        };
        // Alone: every rank runs every system on a communicator of its own.
        const auto self = world.split(world.rank());
        std::vector<double> alone;
        for (std::size_t s = 0; s < systems.size(); ++s) {
            const auto row = run(self, s);
            alone.insert(alone.end(), row.begin(), row.end());
        }
        const par::SystemLayout layout(world, systems, block);
        std::vector<double> led;
        for (std::size_t s : layout.local_systems()) {
            const auto row = run(layout.comm_of(s), s);
            if (layout.leads(s))
                led.insert(led.end(), row.begin(), row.end());
        }
        const auto gathered = layout.gather_by_system(led, width);
        CHECK(testing::all_ranks(world, gathered.size() == alone.size() &&
                                            std::memcmp(gathered.data(), alone.data(),
                                                        alone.size() * sizeof(double)) == 0));
    }
}
