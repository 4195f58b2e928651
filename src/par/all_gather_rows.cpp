#include "moesim/par/all_gather_rows.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/mpi_check.hpp"

#include <climits>

namespace moesim::par {

std::vector<double> all_gather_rows(const boost::mpi::communicator& comm,
                                    const BlockPartition& partition,
                                    std::span<const double> local_rows, std::size_t width) {
    core::require(comm.size() == partition.nranks(),
                  "all_gather_rows: communicator size differs from the partition's");
    core::require(local_rows.size() == partition.items_of(comm.rank()).size() * width,
                  "all_gather_rows: local_rows must hold width values per local item");
    core::require(partition.n_items() * width <= static_cast<std::uint64_t>(INT_MAX),
                  "all_gather_rows: too many values for one MPI_Allgatherv");
    // Every rank knows every rank's range, so no count exchange is needed.
    std::vector<int> counts(static_cast<std::size_t>(comm.size())), displs(counts.size());
    for (int r = 0; r < comm.size(); ++r) {
        const IdRange items = partition.items_of(r);
        counts[static_cast<std::size_t>(r)] = static_cast<int>(items.size() * width);
        displs[static_cast<std::size_t>(r)] = static_cast<int>(items.begin * width);
    }
    std::vector<double> all(partition.n_items() * width);
    MOESIM_MPI_CHECK(MPI_Allgatherv(local_rows.data(), static_cast<int>(local_rows.size()),
                                    MPI_DOUBLE, all.data(), counts.data(), displs.data(),
                                    MPI_DOUBLE, comm));
    return all;
}

} // namespace moesim::par
