#pragma once
// All-to-all exchange of trivially copyable records: each rank sends a run of records to
// every rank (possibly none) and receives the runs addressed to it, grouped by source rank.
// MPI_Alltoall of counts, then MPI_Alltoallv of raw bytes (no serialization); the run a rank
// sends itself is a plain memcpy. Users: the expert-parallel MoE layer (dispatch and
// combine), particle migration.

#include "moesim/core/error.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace moesim::par {

/// Records received by one exchange, grouped by source rank in rank order.
template <class Record> struct Received {
    std::vector<Record> records;
    std::vector<std::uint64_t> counts; ///< counts[r]: records that came from rank r
};

namespace impl {
/// MPI_Alltoall of per-destination counts; returns per-source counts. Collective.
std::vector<std::uint64_t> exchange_counts(const boost::mpi::communicator& comm,
                                           std::span<const std::uint64_t> send_counts);
/// MPI_Alltoallv of records of `record_bytes` each; limits and errors as for exchange().
/// Collective.
void exchange_bytes(const boost::mpi::communicator& comm, const void* send,
                    std::span<const std::uint64_t> send_counts, void* receive,
                    std::span<const std::uint64_t> receive_counts, std::size_t record_bytes);
} // namespace impl

/// Sends send[ offsets ] to each rank: `send` holds the records for rank 0, then rank 1, ...;
/// send_counts[r] is how many go to rank r (size == comm.size()). Every rank must call it,
/// including ranks that send or receive nothing. Receive order: by source rank, and within a
/// source in the order sent. Collective over comm. Throws core::InternalError if the counts
/// do not match `send` or any per-rank byte count or displacement exceeds INT_MAX (MPI's
/// int counts), core::MpiError if MPI fails.
template <class Record>
Received<Record> exchange(const boost::mpi::communicator& comm, std::span<const Record> send,
                          std::span<const std::uint64_t> send_counts);

/// As exchange_into() below, for a receiver that already knows how many records each rank
/// sends it (receive_counts[r] from rank r, e.g. the reverse of an earlier exchange): skips
/// the MPI_Alltoall of counts. The counts must be the senders' send counts; the caller checks
/// what arrives. Collective over comm; same errors as exchange().
template <class Record>
void exchange_into(const boost::mpi::communicator& comm, std::span<const Record> send,
                   std::span<const std::uint64_t> send_counts,
                   std::span<const std::uint64_t> receive_counts, Received<Record>& received) {
    static_assert(std::is_trivially_copyable_v<Record>,
                  "par::exchange sends raw bytes: records must be trivially copyable");
    std::uint64_t sending = 0;
    for (auto c : send_counts)
        sending += c;
    core::require(sending == send.size(), "par::exchange: send_counts do not add up to send");
    received.counts.assign(receive_counts.begin(), receive_counts.end());
    std::uint64_t total = 0;
    for (auto c : received.counts)
        total += c;
    received.records.resize(total);
    impl::exchange_bytes(comm, send.data(), send_counts, received.records.data(), received.counts,
                         sizeof(Record));
}

/// As exchange(), but into `received`, whose vectors keep their capacity: a caller that
/// exchanges similar amounts every step reuses the same receive memory instead of a fresh
/// allocation (large fresh buffers cost a page fault per 4 KiB page on first touch, which
/// measured several times the copy itself). Collective over comm; same errors as exchange().
template <class Record>
void exchange_into(const boost::mpi::communicator& comm, std::span<const Record> send,
                   std::span<const std::uint64_t> send_counts, Received<Record>& received) {
    const std::vector<std::uint64_t> receive_counts = impl::exchange_counts(comm, send_counts);
    exchange_into(comm, send, send_counts, std::span<const std::uint64_t>(receive_counts),
                  received);
}

template <class Record>
Received<Record> exchange(const boost::mpi::communicator& comm, std::span<const Record> send,
                          std::span<const std::uint64_t> send_counts) {
    Received<Record> received;
    exchange_into(comm, send, send_counts, received);
    return received;
}

/// Convenience overload for vectors.
template <class Record>
Received<Record> exchange(const boost::mpi::communicator& comm, const std::vector<Record>& send,
                          std::span<const std::uint64_t> send_counts) {
    return exchange(comm, std::span<const Record>(send), send_counts);
}

} // namespace moesim::par
