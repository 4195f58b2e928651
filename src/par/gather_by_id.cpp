#include "moesim/par/gather_by_id.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/mpi_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

namespace moesim::par {

std::vector<double> allgather_by_id(const boost::mpi::communicator& comm,
                                    std::span<const std::uint64_t> ids,
                                    std::span<const double> rows, std::size_t width,
                                    std::uint64_t n_total) {
    core::require(rows.size() == ids.size() * width,
                  "allgather_by_id: rows must hold width values per id");
    const auto nranks = static_cast<std::size_t>(comm.size());
    // Sizes are checked on every rank from gathered values, so a bad count throws
    // everywhere instead of leaving ranks in the next collective.
    core::require(ids.size() <= static_cast<std::size_t>(INT_MAX),
                  "allgather_by_id: too many local records");
    const int local_count = static_cast<int>(ids.size());
    std::vector<int> counts(nranks);
    MOESIM_MPI_CHECK(MPI_Allgather(&local_count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm));
    std::uint64_t total = 0;
    for (int count : counts)
        total += static_cast<std::uint64_t>(count);
    if (total != n_total)
        throw core::InternalError(fmt::format(
            "allgather_by_id: ranks hold {} records in total, expected {}", total, n_total));
    if (total * std::max<std::size_t>(width, 1) > static_cast<std::uint64_t>(INT_MAX))
        throw core::InternalError("allgather_by_id: too many values for one MPI_Allgatherv");

    std::vector<int> displs(nranks, 0), row_counts(nranks), row_displs(nranks, 0);
    for (std::size_t r = 0; r < nranks; ++r) {
        if (r > 0)
            displs[r] = displs[r - 1] + counts[r - 1];
        row_counts[r] = counts[r] * static_cast<int>(width);
        row_displs[r] = displs[r] * static_cast<int>(width);
    }
    std::vector<std::uint64_t> all_ids(total);
    std::vector<double> all_rows(total * width);
    MOESIM_MPI_CHECK(MPI_Allgatherv(ids.data(), local_count, MPI_UINT64_T, all_ids.data(),
                                    counts.data(), displs.data(), MPI_UINT64_T, comm));
    MOESIM_MPI_CHECK(MPI_Allgatherv(rows.data(), local_count * static_cast<int>(width), MPI_DOUBLE,
                                    all_rows.data(), row_counts.data(), row_displs.data(),
                                    MPI_DOUBLE, comm));

    std::vector<double> out(n_total * width);
    std::vector<bool> seen(n_total, false);
    for (std::size_t at = 0; at < all_ids.size(); ++at) {
        const std::uint64_t id = all_ids[at];
        if (id >= n_total || seen[id])
            throw core::InternalError(fmt::format("allgather_by_id: id {} is {}", id,
                                                  id >= n_total ? "out of range" : "repeated"));
        seen[id] = true;
        std::copy_n(all_rows.begin() + static_cast<std::ptrdiff_t>(at * width), width,
                    out.begin() + static_cast<std::ptrdiff_t>(id * width));
    }
    return out;
}

} // namespace moesim::par
