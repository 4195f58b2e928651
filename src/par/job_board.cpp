#include "moesim/par/job_board.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/communicator.hpp"
#include "moesim/par/mpi_check.hpp"

#include <boost/mpi/collectives.hpp>
#include <fmt/format.h>

#include <climits>
#include <exception>

namespace moesim::par {

namespace {
// Rank 0's window, in bytes (displacement unit 1): header cells, done flags, records.
enum Cell : MPI_Aint {
    counter_cell = 0,
    stop_cell = 1,
    writer_cell = 2,
    done_cell = 3,
    saved_cell = 4,
    header_cells = 5
};
constexpr int owner = 0;

MPI_Aint cell(Cell c) {
    return static_cast<MPI_Aint>(c) * static_cast<MPI_Aint>(sizeof(std::int64_t));
}

int checked_count(std::uint64_t n, const char* what) {
    if (n > static_cast<std::uint64_t>(INT_MAX))
        throw core::InternalError(
            fmt::format("JobBoard: {} has {} entries, above INT_MAX", what, n));
    return static_cast<int>(n);
}
} // namespace

struct JobBoard::Window {
    MPI_Win win = MPI_WIN_NULL;
    std::byte* base = nullptr;
    MPI_Aint flags_offset = 0, records_offset = 0;

    // Fetch-and-op of one header cell; `op` MPI_NO_OP reads it. Completed by flush().
    void fetch(Cell c, std::int64_t operand, std::int64_t* result, MPI_Op op) {
        MOESIM_MPI_CHECK(MPI_Fetch_and_op(&operand, result, MPI_INT64_T, owner, cell(c), op, win));
    }
    void put_cell(Cell c, std::int64_t value) {
        MOESIM_MPI_CHECK(MPI_Accumulate(&value, 1, MPI_INT64_T, owner, cell(c), 1, MPI_INT64_T,
                                        MPI_REPLACE, win));
    }
    void flush() { MOESIM_MPI_CHECK(MPI_Win_flush(owner, win)); }
};

JobBoard::JobBoard(const boost::mpi::communicator& comm, std::uint64_t n_jobs, std::size_t width,
                   std::vector<std::uint64_t> queue, bool shared_queue,
                   std::span<const std::uint64_t> finished, std::span<const double> finished_rows)
    : comm_(duplicate(comm)), window_(std::make_unique<Window>()), n_jobs_(n_jobs), width_(width),
      queue_(std::move(queue)), shared_queue_(shared_queue) {
    core::require(finished_rows.size() == finished.size() * width,
                  "JobBoard: finished rows do not match finished ids");
    checked_count(n_jobs * width, "the record table");
    window_->flags_offset = cell(header_cells);
    window_->records_offset =
        window_->flags_offset + static_cast<MPI_Aint>(n_jobs * sizeof(std::int64_t));
    const MPI_Aint bytes =
        comm.rank() == owner
            ? window_->records_offset + static_cast<MPI_Aint>(n_jobs * width * sizeof(double))
            : 0;
    MOESIM_MPI_CHECK(
        MPI_Win_allocate(bytes, 1, MPI_INFO_NULL, MPI_Comm(comm_), &window_->base, &window_->win));
    if (comm_.rank() == owner) {
        auto* header = reinterpret_cast<std::int64_t*>(window_->base);
        auto* flags = reinterpret_cast<std::int64_t*>(window_->base + window_->flags_offset);
        auto* records = reinterpret_cast<double*>(window_->base + window_->records_offset);
        std::fill(header, header + header_cells, std::int64_t{0});
        std::fill(flags, flags + n_jobs, std::int64_t{0});
        std::fill(records, records + n_jobs * width, 0.0);
        for (std::size_t i = 0; i < finished.size(); ++i) {
            core::require(finished[i] < n_jobs, "JobBoard: a finished job id is out of range");
            flags[finished[i]] = 1;
            std::copy_n(finished_rows.begin() + static_cast<std::ptrdiff_t>(i * width), width,
                        records + finished[i] * width);
        }
        header[done_cell] = header[saved_cell] = static_cast<std::int64_t>(finished.size());
    }
    done_ = finished.size();
    // Everything is initialised before anyone touches the board.
    MOESIM_MPI_CHECK(MPI_Win_fence(0, window_->win));
    MOESIM_MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_->win));
}

JobBoard::~JobBoard() {
    if (window_->win == MPI_WIN_NULL || std::uncaught_exceptions() > 0)
        return;
    MPI_Win_unlock_all(window_->win);
    MPI_Win_free(&window_->win);
}

std::optional<std::uint64_t> JobBoard::next() {
    std::int64_t stop_flag = 0, done_count = 0, position = 0;
    window_->fetch(stop_cell, 0, &stop_flag, MPI_NO_OP);
    window_->fetch(done_cell, 0, &done_count, MPI_NO_OP);
    if (shared_queue_)
        window_->fetch(counter_cell, 1, &position, MPI_SUM);
    window_->flush();
    done_ = static_cast<std::uint64_t>(done_count);
    if (stop_flag != 0) {
        stop_seen_ = true;
        return std::nullopt;
    }
    if (!shared_queue_)
        position = static_cast<std::int64_t>(next_own_++);
    if (position < 0 || static_cast<std::uint64_t>(position) >= queue_.size()) {
        taken_ = queue_.size();
        return std::nullopt;
    }
    taken_ = static_cast<std::uint64_t>(position) + 1;
    return queue_[static_cast<std::size_t>(position)];
}

std::uint64_t JobBoard::finish(std::uint64_t job, std::span<const double> record) {
    core::require(job < n_jobs_ && record.size() == width_, "JobBoard::finish: bad job or record");
    // Accumulate with MPI_REPLACE (not Put) so a concurrent snapshot's reads are defined.
    if (width_ > 0)
        MOESIM_MPI_CHECK(MPI_Accumulate(
            record.data(), static_cast<int>(width_), MPI_DOUBLE, owner,
            window_->records_offset + static_cast<MPI_Aint>(job * width_ * sizeof(double)),
            static_cast<int>(width_), MPI_DOUBLE, MPI_REPLACE, window_->win));
    window_->flush(); // the record is in place before the job is marked done
    const std::int64_t one = 1;
    MOESIM_MPI_CHECK(
        MPI_Accumulate(&one, 1, MPI_INT64_T, owner,
                       window_->flags_offset + static_cast<MPI_Aint>(job * sizeof(std::int64_t)), 1,
                       MPI_INT64_T, MPI_REPLACE, window_->win));
    std::int64_t before = 0;
    window_->fetch(done_cell, 1, &before, MPI_SUM);
    window_->flush();
    done_ = static_cast<std::uint64_t>(before) + 1;
    return done_;
}

void JobBoard::raise_stop() {
    window_->put_cell(stop_cell, 1);
    window_->flush();
    stop_seen_ = true;
}

// The lock is a count of would-be holders taken with fetch-and-add (Open MPI 4.1's osc/rdma
// crashes in MPI_Compare_and_swap over its shared-memory transport): whoever raised it from
// 0 holds it; the others take their increment back at once and skip this checkpoint.
bool JobBoard::try_lock_writer() {
    std::int64_t before = 0;
    window_->fetch(writer_cell, 1, &before, MPI_SUM);
    window_->flush();
    if (before == 0)
        return true;
    window_->fetch(writer_cell, -1, &before, MPI_SUM);
    window_->flush();
    return false;
}

void JobBoard::unlock_writer(std::uint64_t saved_jobs) {
    window_->put_cell(saved_cell, static_cast<std::int64_t>(saved_jobs));
    window_->flush();
    std::int64_t before = 0;
    window_->fetch(writer_cell, -1, &before, MPI_SUM);
    window_->flush();
}

std::uint64_t JobBoard::saved() const {
    std::int64_t value = 0;
    window_->fetch(saved_cell, 0, &value, MPI_NO_OP);
    window_->flush();
    return static_cast<std::uint64_t>(value);
}

void JobBoard::snapshot(std::vector<std::uint64_t>& ids, std::vector<double>& rows) const {
    std::vector<std::int64_t> flags(n_jobs_);
    std::vector<double> records(n_jobs_ * width_);
    if (n_jobs_ > 0) {
        MOESIM_MPI_CHECK(MPI_Get_accumulate(nullptr, 0, MPI_INT64_T, flags.data(),
                                            checked_count(n_jobs_, "the done flags"), MPI_INT64_T,
                                            owner, window_->flags_offset, static_cast<int>(n_jobs_),
                                            MPI_INT64_T, MPI_NO_OP, window_->win));
        window_->flush(); // flags first: a job marked done has its whole record in place
    }
    if (!records.empty()) {
        MOESIM_MPI_CHECK(MPI_Get_accumulate(
            nullptr, 0, MPI_DOUBLE, records.data(), static_cast<int>(records.size()), MPI_DOUBLE,
            owner, window_->records_offset, static_cast<int>(records.size()), MPI_DOUBLE, MPI_NO_OP,
            window_->win));
        window_->flush();
    }
    ids.clear();
    rows.clear();
    for (std::uint64_t job = 0; job < n_jobs_; ++job) {
        if (flags[job] == 0)
            continue;
        ids.push_back(job);
        rows.insert(rows.end(), records.begin() + static_cast<std::ptrdiff_t>(job * width_),
                    records.begin() + static_cast<std::ptrdiff_t>((job + 1) * width_));
    }
}

std::vector<double> JobBoard::table(std::vector<bool>& done_flags) const {
    // Every rank's last finish() was flushed at the target before it got here.
    comm_.barrier();
    std::vector<std::int64_t> flags(n_jobs_);
    std::vector<double> records(n_jobs_ * width_);
    if (comm_.rank() == owner) {
        std::vector<std::uint64_t> ids;
        std::vector<double> rows;
        snapshot(ids, rows);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            flags[ids[i]] = 1;
            std::copy_n(rows.begin() + static_cast<std::ptrdiff_t>(i * width_), width_,
                        records.begin() + static_cast<std::ptrdiff_t>(ids[i] * width_));
        }
    }
    if (!flags.empty())
        boost::mpi::broadcast(comm_, flags.data(), checked_count(flags.size(), "the done flags"),
                              owner);
    if (!records.empty())
        boost::mpi::broadcast(comm_, records.data(), static_cast<int>(records.size()), owner);
    done_flags.assign(flags.begin(), flags.end());
    return records;
}

} // namespace moesim::par
