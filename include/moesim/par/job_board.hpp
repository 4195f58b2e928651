#pragma once
// A shared board for a grid of independent jobs (the rates fits, misspec cells), held in rank
// 0's memory and reached with one-sided MPI under a passive-target lock, so nobody waits for
// rank 0: a next-job counter (ranks take the next job of a fixed order when free, absorbing
// uneven fit times), a stop flag any rank can raise, the finished records by job id, and a
// writer lock so one rank at a time can snapshot the records into a checkpoint while the
// others keep computing. Which rank computes a job depends on timing, never what it computes,
// so the table of records by id is identical for any rank count and schedule.
// Users: the job driver.

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace moesim::par {

class JobBoard {
public:
    /// A board of `n_jobs` records of `width` doubles. `queue` is the order jobs are handed
    /// out in: the same on every rank (a dynamic schedule, shared counter), or, with
    /// `shared_queue` false, this rank's own list (a static schedule). `finished` lists jobs
    /// already done (a restart) with their records (finished_rows: width per id, on rank 0;
    /// other ranks may pass them too, only rank 0's are used); they count as done and must
    /// not appear in any queue. Collective over comm.
    JobBoard(const boost::mpi::communicator& comm, std::uint64_t n_jobs, std::size_t width,
             std::vector<std::uint64_t> queue, bool shared_queue,
             std::span<const std::uint64_t> finished, std::span<const double> finished_rows);
    /// Collective (frees the window) unless an exception is unwinding: then the window is
    /// leaked rather than risking a hang, since the job is about to abort anyway.
    ~JobBoard();
    JobBoard(const JobBoard&) = delete;
    JobBoard& operator=(const JobBoard&) = delete;

    /// The next job for this rank, or nothing when the queue is empty or a stop was raised.
    /// Local (one-sided).
    std::optional<std::uint64_t> next();
    /// Posts job `job`'s record (width values) and marks it done; returns the number of
    /// jobs done over all ranks, this one included. Local (one-sided).
    std::uint64_t finish(std::uint64_t job, std::span<const double> record);
    /// Raises the stop flag: every rank's next() returns nothing from now on. Local.
    void raise_stop();
    /// Whether this rank saw the stop flag raised (at its last next()). Local.
    bool stop_seen() const noexcept { return stop_seen_; }

    /// Jobs done over all ranks as of this rank's last next() or finish(). Local.
    std::uint64_t done() const noexcept { return done_; }
    /// Jobs handed out over all ranks as of this rank's last next() (shared queue only;
    /// with a static schedule, this rank's own count). Local.
    std::uint64_t taken() const noexcept { return taken_; }
    std::uint64_t n_jobs() const noexcept { return n_jobs_; }
    std::size_t width() const noexcept { return width_; }

    /// Takes the writer lock if nobody holds it: true if this rank now holds it. Local.
    bool try_lock_writer();
    /// Releases the writer lock, recording that a checkpoint now holds `saved` jobs. Local.
    void unlock_writer(std::uint64_t saved);
    /// Jobs held by the last checkpoint written through the lock (or restored). Local.
    std::uint64_t saved() const;

    /// Ids (increasing) and records of the jobs done so far. Local; consistent with itself
    /// (a record is posted before its job is marked done).
    void snapshot(std::vector<std::uint64_t>& ids, std::vector<double>& rows) const;

    /// Every record by id (n_jobs * width doubles) and whether each job is done, on every
    /// rank. Collective: call once every rank has stopped taking jobs.
    std::vector<double> table(std::vector<bool>& done_flags) const;

private:
    struct Window;
    boost::mpi::communicator comm_; // private duplicate
    std::unique_ptr<Window> window_;
    std::uint64_t n_jobs_;
    std::size_t width_;
    std::vector<std::uint64_t> queue_;
    bool shared_queue_;
    std::size_t next_own_ = 0;
    std::uint64_t done_ = 0, taken_ = 0;
    bool stop_seen_ = false;
};

} // namespace moesim::par
