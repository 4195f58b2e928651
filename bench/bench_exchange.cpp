// bench_exchange: par::exchange (MPI_Alltoall of counts, receive allocation, MPI_Alltoallv of
// bytes) and par::exchange_into (the same into a receive buffer kept across calls, as
// MoeLayer does) vs a bare MPI_Alltoallv of the same send buffer with counts and receive
// buffer prepared once (the peer, so this file calls MPI directly). Every rank sends the same
// number of doubles to every rank (itself included). The three alternate call by call; each
// call is timed after a barrier as the slowest rank's time; medians reported. bytes/s counts
// the bytes each rank sends (nranks x message) per call.
// Usage: bench_exchange [--bytes 4096,65536,1048576,4194304] [--min-seconds 1]
//        [--min-calls 20] [--output FILE]; run under mpirun at 2 or more ranks.

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
    const int min_calls = std::stoi(bench::option(argc, argv, "--min-calls", "20"));
    const auto nranks = static_cast<std::size_t>(comm.size());

    std::vector<std::string> rows;
    for (const std::size_t bytes : message_bytes) {
        const std::size_t per_rank = std::max<std::size_t>(1, bytes / sizeof(double));
        std::vector<double> send(per_rank * nranks);
        for (std::size_t i = 0; i < send.size(); ++i)
            send[i] = double(comm.rank()) * 1e9 + double(i);
        const std::vector<std::uint64_t> counts(nranks, per_rank);
        // The bare peer: int byte counts and displacements and the receive buffer, once.
        std::vector<int> byte_counts(nranks), byte_displs(nranks);
        for (std::size_t r = 0; r < nranks; ++r) {
            byte_counts[r] = int(per_rank * sizeof(double));
            byte_displs[r] = int(r * per_rank * sizeof(double));
        }
        std::vector<double> receive(send.size());

        auto ours = [&] {
            comm.barrier();
            const auto start = Clock::now();
            const auto received = par::exchange(comm, send, counts);
            const double seconds = bench::seconds_since(start);
            if (received.records.size() != send.size())
                throw std::runtime_error("par::exchange returned a wrong record count");
            return max_over_ranks(comm, seconds);
        };
        par::Received<double> reused;
        auto into = [&] {
            comm.barrier();
            const auto start = Clock::now();
            par::exchange_into(comm, std::span<const double>(send), counts, reused);
            const double seconds = bench::seconds_since(start);
            if (reused.records.size() != send.size())
                throw std::runtime_error("par::exchange_into returned a wrong record count");
            return max_over_ranks(comm, seconds);
        };
        auto bare = [&] {
            comm.barrier();
            const auto start = Clock::now();
            if (MPI_Alltoallv(send.data(), byte_counts.data(), byte_displs.data(), MPI_BYTE,
                              receive.data(), byte_counts.data(), byte_displs.data(), MPI_BYTE,
                              comm) != MPI_SUCCESS)
                throw std::runtime_error("MPI_Alltoallv failed");
            return max_over_ranks(comm, bench::seconds_since(start));
        };
        for (int i = 0; i < 3; ++i) {
            ours();
            into();
            bare();
        }
        // Call count from rank 0's warm-up, broadcast so every rank makes the same calls.
        const double one = ours() + into() + bare();
        int calls = int(std::ceil(min_seconds / std::max(one, 1e-9)));
        calls = std::clamp(calls, min_calls, 100000);
        boost::mpi::broadcast(comm, calls, 0);
        std::vector<double> ours_times, into_times, bare_times;
        for (int i = 0; i < calls; ++i) {
            ours_times.push_back(ours());
            into_times.push_back(into());
            bare_times.push_back(bare());
        }
        // Check once that both delivered the same data.
        const auto received = par::exchange(comm, send, counts);
        if (std::memcmp(received.records.data(), receive.data(), receive.size() * sizeof(double)) ||
            std::memcmp(reused.records.data(), receive.data(), receive.size() * sizeof(double)))
            throw std::runtime_error("par::exchange and MPI_Alltoallv delivered different data");

        const double sent = double(per_rank * nranks * sizeof(double));
        const double t_ours = bench::median(ours_times), t_bare = bench::median(bare_times);
        const double t_into = bench::median(into_times);
        rows.push_back(
            fmt::format("{{\"message_bytes\": {}, \"bytes_per_rank_per_call\": {}, \"calls\": {}, "
                        "\"ours_median_seconds\": {:.6e}, \"bare_median_seconds\": {:.6e}, "
                        "\"ours_bytes_per_second\": {:.6e}, \"bare_bytes_per_second\": {:.6e}, "
                        "\"ours_over_bare_rate\": {:.4f}, \"into_median_seconds\": {:.6e}, "
                        "\"into_bytes_per_second\": {:.6e}, \"into_over_bare_rate\": {:.4f}}}",
                        per_rank * sizeof(double), sent, calls, t_ours, t_bare, sent / t_ours,
                        sent / t_bare, t_bare / t_ours, t_into, sent / t_into, t_bare / t_into));
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
