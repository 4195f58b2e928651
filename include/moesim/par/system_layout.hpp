#pragma once
// Where independent particle systems run: S systems (e.g. a grid of N times M_max seeds, plus
// a reference) spread over the ranks of one communicator, a large system over several ranks,
// several small ones on one rank, and systems marked all_ranks over every rank. Ranks are
// cut into contiguous groups with one MPI_Comm_split; a system's particles are split over
// its group by BlockPartition exactly as a lone system of the same block size would be, so
// its results are bitwise the same for any rank count and any layout.
// Users: the propagation-of-chaos experiment (N sweep, ensembles), tests.

#include "moesim/par/block_partition.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace moesim::par {

/// One system to place.
struct SystemSpec {
    std::uint64_t particles = 0; ///< N_s >= 1; also its cost (work per step is ~ N_s)
    bool all_ranks = false;      ///< spread over every rank (the reference), not balanced
};

/// A contiguous range of ranks [first, first + count).
struct RankRange {
    int first = 0;
    int count = 0;
    bool contains(int rank) const noexcept { return rank >= first && rank < first + count; }
    friend bool operator==(const RankRange&, const RankRange&) = default;
};

/// The placement alone, the same on every rank (no communication), so it can be tested and
/// printed without MPI. Systems not marked all_ranks are balanced by particle count:
/// with fair = (their total) / nranks, a system of at least 2 fair shares gets
/// floor(share) ranks of its own (at most one per block); the rest share single-rank groups,
/// longest first onto the least loaded (ties: lower id, lower group). Ranks left over go to
/// the widest systems that can still use one; any others stay idle. Local.
class SystemPlan {
public:
    /// Throws core::InternalError if nranks < 1, block_size == 0 or a system has no particle.
    SystemPlan(std::vector<SystemSpec> systems, std::uint64_t block_size, int nranks);

    std::size_t n_systems() const noexcept { return systems_.size(); }
    int nranks() const noexcept { return nranks_; }
    std::uint64_t block_size() const noexcept { return block_size_; }
    const SystemSpec& system(std::size_t s) const { return systems_.at(s); }

    /// The ranks system s runs on.
    RankRange ranks_of(std::size_t s) const { return ranks_.at(s); }
    /// Its particles over those ranks: BlockPartition(N_s, block_size, ranks_of(s).count).
    BlockPartition partition_of(std::size_t s) const;
    /// The particle ids of system s held by `rank` (empty if it does not run s).
    IdRange particles_on(std::size_t s, int rank) const;

    /// Balanced groups: disjoint rank ranges, in rank order.
    int n_groups() const noexcept { return static_cast<int>(groups_.size()); }
    RankRange group_ranks(int group) const { return groups_.at(static_cast<std::size_t>(group)); }
    /// The group of a system, or -1 for an all_ranks system.
    int group_of(std::size_t s) const { return group_of_system_.at(s); }
    /// The group `rank` belongs to, or -1 if it is idle (owns no balanced system).
    int group_of_rank(int rank) const;

    /// Systems that run on `rank` (all_ranks ones included), ascending.
    std::vector<std::size_t> systems_on(int rank) const;
    /// Particles per rank of the balanced systems (a load estimate), nranks values.
    std::vector<double> balanced_load() const;

private:
    std::vector<SystemSpec> systems_;
    std::uint64_t block_size_;
    int nranks_;
    std::vector<RankRange> ranks_;
    std::vector<int> group_of_system_;
    std::vector<RankRange> groups_;
};

/// A SystemPlan with its communicators: one per balanced group (MPI_Comm_split of the
/// layout's duplicate, ranks in the same order) and the duplicate itself for all_ranks
/// systems. Systems of one group take turns on the group's communicator, so every rank of
/// a group must visit its systems in the same order (local_systems()).
class SystemLayout {
public:
    /// Collective over comm (MPI_Comm_dup, then MPI_Comm_split).
    SystemLayout(const boost::mpi::communicator& comm, std::vector<SystemSpec> systems,
                 std::uint64_t block_size);

    const SystemPlan& plan() const noexcept { return plan_; }
    /// The layout's duplicate of the constructor's communicator.
    const boost::mpi::communicator& comm() const noexcept { return all_; }
    /// The systems this rank runs, ascending.
    const std::vector<std::size_t>& local_systems() const noexcept { return local_; }
    /// The communicator of a local system: size ranks_of(s).count, rank = this rank's
    /// position in ranks_of(s). Throws core::InternalError if s does not run here.
    const boost::mpi::communicator& comm_of(std::size_t s) const;
    /// True if this rank is rank 0 of system s's communicator (its leader). Local.
    bool leads(std::size_t s) const;
    /// The systems this rank leads, ascending.
    std::vector<std::size_t> led_systems() const;

    /// Every system's row of `width` values on every rank, row s at s * width: each leader
    /// passes the rows of led_systems() in order, the others pass nothing for those. Exact
    /// (no arithmetic), so as rank-count independent as the rows. Collective over comm().
    std::vector<double> gather_by_system(std::span<const double> led_rows, std::size_t width) const;

private:
    SystemPlan plan_;
    boost::mpi::communicator all_;
    std::optional<boost::mpi::communicator> group_; // this rank's balanced group, if any
    std::vector<std::size_t> local_;
};

} // namespace moesim::par
