#pragma once
// Self-scheduling of independent jobs: ranks take the next job of a fixed order whenever
// they are free, so fits that run longer than their cost estimate (EM iterations vary a
// lot between replicates) do not leave other ranks idle. The queue is one counter on rank
// 0, advanced with MPI_Fetch_and_op under a passive-target lock: taking a job needs no
// action by rank 0, which keeps computing (osc/sm on one node; RDMA atomics across nodes).
// Which rank computes a job depends on timing, never what it computes, so results gathered
// by job id (par::allgather_by_id) are identical for any rank count and timing.
// Users: the rates experiment.

#include <boost/mpi/communicator.hpp>

#include <mpi.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace moesim::par {

class JobQueue {
public:
    /// Jobs are handed out in `order` (e.g. by decreasing cost). Collective over comm; every
    /// rank passes the same order.
    JobQueue(const boost::mpi::communicator& comm, std::vector<std::uint64_t> order);
    /// Collective (frees the window) unless an exception is unwinding: then the window is
    /// leaked rather than risking a hang, since the job is about to abort anyway.
    ~JobQueue();
    JobQueue(const JobQueue&) = delete;
    JobQueue& operator=(const JobQueue&) = delete;

    /// The next job nobody has taken, or nothing when all are taken. Local (one-sided).
    std::optional<std::uint64_t> next();
    /// Jobs taken by all ranks as of this rank's last next() (for progress). Local.
    std::uint64_t taken() const noexcept { return taken_; }
    std::uint64_t size() const noexcept { return order_.size(); }

private:
    std::vector<std::uint64_t> order_;
    std::uint64_t taken_ = 0;
    MPI_Win window_ = MPI_WIN_NULL;
    std::int64_t* counter_ = nullptr; // rank 0's window memory
};

} // namespace moesim::par
