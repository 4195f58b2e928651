#include "moesim/par/job_queue.hpp"

#include "moesim/par/mpi_check.hpp"

#include <exception>

namespace moesim::par {

JobQueue::JobQueue(const boost::mpi::communicator& comm, std::vector<std::uint64_t> order)
    : order_(std::move(order)) {
    const MPI_Aint bytes = comm.rank() == 0 ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0;
    MOESIM_MPI_CHECK(MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, MPI_Comm(comm),
                                      &counter_, &window_));
    if (comm.rank() == 0)
        *counter_ = 0;
    // The counter is initialised before anyone takes a job.
    MOESIM_MPI_CHECK(MPI_Win_fence(0, window_));
    MOESIM_MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_));
}

JobQueue::~JobQueue() {
    if (window_ == MPI_WIN_NULL || std::uncaught_exceptions() > 0)
        return;
    MPI_Win_unlock_all(window_);
    MPI_Win_free(&window_);
}

std::optional<std::uint64_t> JobQueue::next() {
    const std::int64_t one = 1;
    std::int64_t taken = 0;
    MOESIM_MPI_CHECK(
        MPI_Fetch_and_op(&one, &taken, MPI_INT64_T, 0, 0, MPI_SUM, window_));
    MOESIM_MPI_CHECK(MPI_Win_flush(0, window_));
    if (taken < 0 || static_cast<std::uint64_t>(taken) >= order_.size()) {
        taken_ = order_.size();
        return std::nullopt;
    }
    taken_ = static_cast<std::uint64_t>(taken) + 1;
    return order_[static_cast<std::size_t>(taken)];
}

} // namespace moesim::par
