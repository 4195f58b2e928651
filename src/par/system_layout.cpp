#include "moesim/par/system_layout.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/communicator.hpp"
#include "moesim/par/gather_by_id.hpp"
#include "moesim/par/mpi_check.hpp"

#include <algorithm>
#include <limits>

namespace moesim::par {

namespace {

std::uint64_t blocks_of(std::uint64_t particles, std::uint64_t block_size) {
    return (particles + block_size - 1) / block_size;
}

} // namespace

SystemPlan::SystemPlan(std::vector<SystemSpec> systems, std::uint64_t block_size, int nranks)
    : systems_(std::move(systems)), block_size_(block_size), nranks_(nranks),
      ranks_(systems_.size()), group_of_system_(systems_.size(), -1) {
    core::require(nranks >= 1, "SystemPlan: nranks must be positive");
    core::require(block_size >= 1, "SystemPlan: block_size must be positive");
    std::vector<std::size_t> balanced;
    std::uint64_t total = 0;
    for (std::size_t s = 0; s < systems_.size(); ++s) {
        core::require(systems_[s].particles >= 1, "SystemPlan: every system needs a particle");
        if (systems_[s].all_ranks) {
            ranks_[s] = {0, nranks};
        } else {
            balanced.push_back(s);
            total += systems_[s].particles;
        }
    }
    if (balanced.empty())
        return;

    // Wide systems: at least two fair shares, floor(share) ranks each, at most one per block.
    // In exact integers the sum of floor(share) is below nranks whenever some particles are
    // left to narrow systems, so at least one rank remains for them.
    core::require(total <= std::numeric_limits<std::uint64_t>::max() /
                               static_cast<std::uint64_t>(nranks),
                  "SystemPlan: too many particles");
    std::vector<std::size_t> wide, narrow;
    std::vector<int> width(systems_.size(), 0);
    int used = 0;
    for (std::size_t s : balanced) {
        const std::uint64_t share =
            systems_[s].particles * static_cast<std::uint64_t>(nranks) / total;
        const std::uint64_t ranks = std::min(share, blocks_of(systems_[s].particles, block_size));
        if (ranks >= 2) {
            wide.push_back(s);
            width[s] = static_cast<int>(ranks);
            used += width[s];
        } else {
            narrow.push_back(s);
        }
    }
    const int leftover = nranks - used;
    const int singles = std::min(leftover, static_cast<int>(narrow.size()));
    // Spare ranks (more than narrow systems) widen the system with the most particles per
    // rank after the addition that can still take one.
    for (int spare = leftover - singles; spare > 0; --spare) {
        std::size_t pick = systems_.size();
        double best = -1.0;
        for (std::size_t s : wide) {
            if (static_cast<std::uint64_t>(width[s]) >=
                blocks_of(systems_[s].particles, block_size))
                continue;
            const double per_rank = static_cast<double>(systems_[s].particles) / (width[s] + 1);
            if (per_rank > best) {
                best = per_rank;
                pick = s;
            }
        }
        if (pick == systems_.size())
            break; // every wide system has a rank per block: the rest stay idle
        ++width[pick];
    }

    int cursor = 0;
    for (std::size_t s : wide) {
        group_of_system_[s] = static_cast<int>(groups_.size());
        groups_.push_back({cursor, width[s]});
        ranks_[s] = groups_.back();
        cursor += width[s];
    }
    const int first_single = static_cast<int>(groups_.size());
    for (int g = 0; g < singles; ++g)
        groups_.push_back({cursor + g, 1});

    // Longest first onto the least-loaded single-rank group.
    std::stable_sort(narrow.begin(), narrow.end(), [&](std::size_t a, std::size_t b) {
        return systems_[a].particles > systems_[b].particles;
    });
    std::vector<std::uint64_t> load(static_cast<std::size_t>(singles), 0);
    for (std::size_t s : narrow) {
        const auto lightest =
            static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        load[lightest] += systems_[s].particles;
        group_of_system_[s] = first_single + static_cast<int>(lightest);
        ranks_[s] = groups_[static_cast<std::size_t>(group_of_system_[s])];
    }
}

BlockPartition SystemPlan::partition_of(std::size_t s) const {
    return BlockPartition(system(s).particles, block_size_, ranks_of(s).count);
}

IdRange SystemPlan::particles_on(std::size_t s, int rank) const {
    const RankRange ranks = ranks_of(s);
    if (!ranks.contains(rank))
        return {};
    return partition_of(s).items_of(rank - ranks.first);
}

int SystemPlan::group_of_rank(int rank) const {
    for (std::size_t g = 0; g < groups_.size(); ++g)
        if (groups_[g].contains(rank))
            return static_cast<int>(g);
    return -1;
}

std::vector<std::size_t> SystemPlan::systems_on(int rank) const {
    std::vector<std::size_t> out;
    for (std::size_t s = 0; s < systems_.size(); ++s)
        if (ranks_[s].contains(rank))
            out.push_back(s);
    return out;
}

std::vector<double> SystemPlan::balanced_load() const {
    std::vector<double> load(static_cast<std::size_t>(nranks_), 0.0);
    for (std::size_t s = 0; s < systems_.size(); ++s) {
        if (systems_[s].all_ranks)
            continue;
        for (int r = ranks_[s].first; r < ranks_[s].first + ranks_[s].count; ++r)
            load[static_cast<std::size_t>(r)] += static_cast<double>(particles_on(s, r).size());
    }
    return load;
}

SystemLayout::SystemLayout(const boost::mpi::communicator& comm, std::vector<SystemSpec> systems,
                           std::uint64_t block_size)
    : plan_(std::move(systems), block_size, comm.size()), all_(duplicate(comm)) {
    const int rank = all_.rank();
    const int group = plan_.group_of_rank(rank);
    MPI_Comm split = MPI_COMM_NULL;
    // Key = rank: a group's ranks keep their order, so group rank = rank - first.
    MOESIM_MPI_CHECK(MPI_Comm_split(all_, group < 0 ? MPI_UNDEFINED : group, rank, &split));
    if (split != MPI_COMM_NULL) {
        MOESIM_MPI_CHECK(MPI_Comm_set_errhandler(split, MPI_ERRORS_RETURN));
        group_.emplace(split, boost::mpi::comm_take_ownership);
    }
    local_ = plan_.systems_on(rank);
}

const boost::mpi::communicator& SystemLayout::comm_of(std::size_t s) const {
    core::require(plan_.ranks_of(s).contains(all_.rank()),
                  "SystemLayout::comm_of: the system does not run on this rank");
    return plan_.system(s).all_ranks ? all_ : *group_;
}

bool SystemLayout::leads(std::size_t s) const {
    return plan_.ranks_of(s).first == all_.rank();
}

std::vector<std::size_t> SystemLayout::led_systems() const {
    std::vector<std::size_t> out;
    for (std::size_t s : local_)
        if (leads(s))
            out.push_back(s);
    return out;
}

std::vector<double> SystemLayout::gather_by_system(std::span<const double> led_rows,
                                                   std::size_t width) const {
    const std::vector<std::size_t> led = led_systems();
    std::vector<std::uint64_t> ids(led.begin(), led.end());
    return allgather_by_id(all_, ids, led_rows, width, plan_.n_systems());
}

} // namespace moesim::par
