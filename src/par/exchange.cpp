#include "moesim/par/exchange.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/mpi_check.hpp"

#include <fmt/format.h>

#include <climits>
#include <cstring>

namespace moesim::par::impl {

std::vector<std::uint64_t> exchange_counts(const boost::mpi::communicator& comm,
                                           std::span<const std::uint64_t> send_counts) {
    core::require(send_counts.size() == static_cast<std::size_t>(comm.size()),
                  "par::exchange: send_counts must have one entry per rank");
    if (comm.size() == 1) // nothing to ask anyone: what this rank sends itself it receives
        return {send_counts.begin(), send_counts.end()};
    std::vector<std::uint64_t> receive_counts(send_counts.size());
    MOESIM_MPI_CHECK(MPI_Alltoall(send_counts.data(), 1, MPI_UINT64_T, receive_counts.data(), 1,
                                  MPI_UINT64_T, comm));
    return receive_counts;
}

namespace {
// Byte counts and displacements for MPI's int-typed Alltoallv arguments; never wraps.
void to_int_layout(std::span<const std::uint64_t> counts, std::size_t record_bytes,
                   std::vector<int>& byte_counts, std::vector<int>& byte_displs,
                   const char* direction) {
    byte_counts.resize(counts.size());
    byte_displs.resize(counts.size());
    std::uint64_t offset = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
        const std::uint64_t bytes = counts[r] * record_bytes;
        if (bytes > static_cast<std::uint64_t>(INT_MAX) ||
            offset > static_cast<std::uint64_t>(INT_MAX))
            throw core::InternalError(fmt::format(
                "par::exchange: {} {} records of {} bytes at offset {} for rank {} exceed "
                "MPI's INT_MAX-byte limit; use a smaller batch or more ranks",
                direction, counts[r], record_bytes, offset, r));
        byte_counts[r] = static_cast<int>(bytes);
        byte_displs[r] = static_cast<int>(offset);
        offset += bytes;
    }
}
} // namespace

void exchange_bytes(const boost::mpi::communicator& comm, const void* send,
                    std::span<const std::uint64_t> send_counts, void* receive,
                    std::span<const std::uint64_t> receive_counts, std::size_t record_bytes) {
    core::require(send_counts.size() == static_cast<std::size_t>(comm.size()) &&
                      receive_counts.size() == send_counts.size(),
                  "par::exchange: send and receive counts must have one entry per rank");
    // Kept across calls: exchanges run every step, and the layouts are rank-count sized.
    thread_local std::vector<int> send_bytes, send_displs, receive_bytes, receive_displs;
    to_int_layout(send_counts, record_bytes, send_bytes, send_displs, "sending");
    to_int_layout(receive_counts, record_bytes, receive_bytes, receive_displs, "receiving");
    // The records a rank sends itself are copied here rather than through MPI, which at
    // one rank (and for the local share at any count) saves MPI's own copy and call overhead.
    const auto self = static_cast<std::size_t>(comm.rank());
    core::require(send_bytes[self] == receive_bytes[self],
                  "par::exchange: a rank must receive from itself what it sends itself");
    if (send_bytes[self] > 0)
        std::memcpy(static_cast<char*>(receive) + receive_displs[self],
                    static_cast<const char*>(send) + send_displs[self],
                    static_cast<std::size_t>(send_bytes[self]));
    if (comm.size() == 1)
        return;
    send_bytes[self] = 0;
    receive_bytes[self] = 0;
    MOESIM_MPI_CHECK(MPI_Alltoallv(send, send_bytes.data(), send_displs.data(), MPI_BYTE, receive,
                                   receive_bytes.data(), receive_displs.data(), MPI_BYTE, comm));
}

} // namespace moesim::par::impl
