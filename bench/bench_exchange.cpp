// bench_exchange: par::exchange against bare MPI calls on the same buffers. Five calls per
// repetition, in an order rotated each repetition (so no variant always follows another):
//   known: par::exchange_into with receive counts given (MoeLayer's combine and backward
//          exchanges) vs bare: MPI_Alltoallv alone, into the same kept receive buffer;
//   into:  par::exchange_into, counts exchanged (MoeLayer's dispatch) vs bare_counts:
//          MPI_Alltoall of the counts then MPI_Alltoallv, into the same kept receive buffer;
//   fresh: par::exchange, a fresh receive vector per call (its page faults included).
// The bare calls prepare their int counts and displacements once, outside the timing. Every
// rank sends the same number of doubles to every rank (itself included). Each call is timed
// after a barrier as the slowest rank's time; medians reported; bytes/s counts the bytes
// each rank sends (nranks x message) per call.
// Usage: bench_exchange [--bytes 4096,65536,1048576,4194304] [--min-seconds 1]
//        [--min-calls 60] [--output FILE]; run under mpirun at 2 or more ranks.

#include "bench_common.hpp"

#include "moesim/par/exchange.hpp"

#include <boost/mpi/collectives.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <sstream>

using namespace moesim;
using bench::Clock;

namespace {

double max_over_ranks(const boost::mpi::communicator& comm, double value) {
    return boost::mpi::all_reduce(comm, value, boost::mpi::maximum<double>());
}

std::string run(const boost::mpi::communicator& comm, int argc, char** argv) {
    std::vector<std::size_t> message_bytes;
    {
        std::stringstream list(bench::option(argc, argv, "--bytes", "4096,65536,1048576,4194304"));
        std::string item;
        while (std::getline(list, item, ','))
            message_bytes.push_back(std::stoul(item));
    }
    const double min_seconds = std::stod(bench::option(argc, argv, "--min-seconds", "1"));
    const int min_calls = std::stoi(bench::option(argc, argv, "--min-calls", "60"));
    const auto nranks = static_cast<std::size_t>(comm.size());

    std::vector<std::string> rows;
    for (const std::size_t bytes : message_bytes) {
        const std::size_t per_rank = std::max<std::size_t>(1, bytes / sizeof(double));
        std::vector<double> send(per_rank * nranks);
        for (std::size_t i = 0; i < send.size(); ++i)
            send[i] = double(comm.rank()) * 1e9 + double(i);
        const std::vector<std::uint64_t> counts(nranks, per_rank);
        // The bare peer: int byte counts and displacements, once.
        std::vector<int> byte_counts(nranks), byte_displs(nranks);
        for (std::size_t r = 0; r < nranks; ++r) {
            byte_counts[r] = int(per_rank * sizeof(double));
            byte_displs[r] = int(r * per_rank * sizeof(double));
        }
        // One receive buffer for ours and the bare calls: Received keeps its capacity.
        par::Received<double> kept;
        par::exchange_into(comm, std::span<const double>(send), counts, kept);
        double* const receive = kept.records.data();

        auto timed = [&](auto&& call) {
            comm.barrier();
            const auto start = Clock::now();
            call();
            return max_over_ranks(comm, bench::seconds_since(start));
        };
        auto check = [&](std::size_t n) {
            if (n != send.size())
                throw std::runtime_error("par::exchange returned a wrong record count");
        };
        auto known = [&] {
            par::exchange_into(comm, std::span<const double>(send), counts, counts, kept);
            check(kept.records.size());
        };
        auto into = [&] {
            par::exchange_into(comm, std::span<const double>(send), counts, kept);
            check(kept.records.size());
        };
        auto fresh = [&] { check(par::exchange(comm, send, counts).records.size()); };
        auto bare = [&] {
            if (MPI_Alltoallv(send.data(), byte_counts.data(), byte_displs.data(), MPI_BYTE,
                              receive, byte_counts.data(), byte_displs.data(), MPI_BYTE,
                              comm) != MPI_SUCCESS)
                throw std::runtime_error("MPI_Alltoallv failed");
        };
        std::vector<std::uint64_t> receive_counts(nranks);
        auto bare_counts = [&] {
            if (MPI_Alltoall(counts.data(), 1, MPI_UINT64_T, receive_counts.data(), 1,
                             MPI_UINT64_T, comm) != MPI_SUCCESS)
                throw std::runtime_error("MPI_Alltoall failed");
            bare();
        };
        constexpr int n_variants = 5;
        std::vector<double> times[n_variants];
        auto repetition = [&](int rotation, bool keep) {
            for (int v = 0; v < n_variants; ++v) {
                const int which = (v + rotation) % n_variants;
                double t = 0;
                switch (which) {
                case 0: t = timed(known); break;
                case 1: t = timed(bare); break;
                case 2: t = timed(into); break;
                case 3: t = timed(bare_counts); break;
                default: t = timed(fresh); break;
                }
                if (keep)
                    times[which].push_back(t);
            }
        };
        const auto warm_start = Clock::now();
        for (int i = 0; i < n_variants; ++i)
            repetition(i, false);
        // Call count from rank 0's warm-up, broadcast so every rank makes the same calls.
        const double one = bench::seconds_since(warm_start) / n_variants;
        int calls = int(std::ceil(min_seconds / std::max(one, 1e-9)));
        calls = std::clamp(calls, min_calls, 100000);
        boost::mpi::broadcast(comm, calls, 0);
        for (int i = 0; i < calls; ++i)
            repetition(i % n_variants, true);
        // Check once that ours and the bare call deliver the same data.
        bare();
        const std::vector<double> bare_received(receive, receive + send.size());
        const auto received = par::exchange(comm, send, counts);
        if (std::memcmp(received.records.data(), bare_received.data(),
                        send.size() * sizeof(double)))
            throw std::runtime_error("par::exchange and MPI_Alltoallv delivered different data");

        const double sent = double(per_rank * nranks * sizeof(double));
        double med[n_variants];
        for (int v = 0; v < n_variants; ++v)
            med[v] = bench::median(times[v]);
        rows.push_back(fmt::format(
            "{{\"message_bytes\": {}, \"bytes_per_rank_per_call\": {}, \"calls\": {}, "
            "\"known_median_seconds\": {:.6e}, \"bare_median_seconds\": {:.6e}, "
            "\"into_median_seconds\": {:.6e}, \"bare_counts_median_seconds\": {:.6e}, "
            "\"fresh_median_seconds\": {:.6e}, \"known_bytes_per_second\": {:.6e}, "
            "\"bare_bytes_per_second\": {:.6e}, \"into_bytes_per_second\": {:.6e}, "
            "\"bare_counts_bytes_per_second\": {:.6e}, \"fresh_bytes_per_second\": {:.6e}, "
            "\"known_over_bare_rate\": {:.4f}, \"into_over_bare_counts_rate\": {:.4f}, "
            "\"fresh_over_bare_counts_rate\": {:.4f}}}",
            per_rank * sizeof(double), sent, calls, med[0], med[1], med[2], med[3], med[4],
            sent / med[0], sent / med[1], sent / med[2], sent / med[3], sent / med[4],
            med[1] / med[0], med[3] / med[2], med[3] / med[4]));
    }
    std::string list;
    for (const auto& r : rows)
        list += (list.empty() ? "\n    " : ",\n    ") + r;
    return fmt::format("{{\"benchmark\": \"exchange\", \"build\": {}, \"sizes\": [{}\n]}}",
                       bench::build_json(comm), list);
}

} // namespace

int main(int argc, char** argv) {
    return moesim::bench::bench_main(argc, argv, "bench_exchange", run);
}
