#include "moesim/par/deterministic_sum.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/mpi_check.hpp"

#include <climits>

namespace moesim::par {

std::vector<double> sum_block_partials(const boost::mpi::communicator& comm,
                                       const BlockPartition& partition,
                                       std::span<const double> local_block_partials,
                                       std::size_t width) {
    core::require(comm.size() == partition.nranks(),
                  "sum_block_partials: communicator size differs from the partition's");
    const int nranks = comm.size();
    core::require(local_block_partials.size() == partition.blocks_of(comm.rank()).size() * width,
                  "sum_block_partials: wrong number of local partials");
    core::require(partition.n_blocks() * width <= static_cast<std::uint64_t>(INT_MAX),
                  "sum_block_partials: too many partials for one MPI_Allgatherv");

    // Fixed association: (((b0 + b1) + b2) + ...), the same on every rank and rank count.
    auto add_blocks = [&](const double* partials) {
        std::vector<double> total(width, 0.0);
        for (std::uint64_t b = 0; b < partition.n_blocks(); ++b)
            for (std::size_t k = 0; k < width; ++k)
                total[k] += partials[b * width + k];
        return total;
    };
    if (nranks == 1) // every block is local, in block order: nothing to gather
        return add_blocks(local_block_partials.data());

    // Every rank knows every rank's block range, so no count exchange is needed.
    std::vector<int> counts(static_cast<std::size_t>(nranks)), displs(counts.size());
    for (int r = 0; r < nranks; ++r) {
        const IdRange blocks = partition.blocks_of(r);
        counts[static_cast<std::size_t>(r)] = static_cast<int>(blocks.size() * width);
        displs[static_cast<std::size_t>(r)] = static_cast<int>(blocks.begin * width);
    }
    std::vector<double> all(partition.n_blocks() * width);
    MOESIM_MPI_CHECK(MPI_Allgatherv(local_block_partials.data(),
                                    static_cast<int>(local_block_partials.size()), MPI_DOUBLE,
                                    all.data(), counts.data(), displs.data(), MPI_DOUBLE, comm));

    return add_blocks(all.data());
}

std::vector<double> deterministic_sum(const boost::mpi::communicator& comm,
                                      const BlockPartition& partition,
                                      std::span<const double> local_rows, std::size_t width) {
    const IdRange items = partition.items_of(comm.rank());
    core::require(local_rows.size() == items.size() * width,
                  "deterministic_sum: local_rows must hold width values per local item");
    const IdRange blocks = partition.blocks_of(comm.rank());
    std::vector<double> partials(blocks.size() * width, 0.0);
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const IdRange in_block = partition.items_in_block(b);
        double* partial = partials.data() + (b - blocks.begin) * width;
        for (std::uint64_t id = in_block.begin; id < in_block.end; ++id) {
            const double* row = local_rows.data() + (id - items.begin) * width;
            for (std::size_t k = 0; k < width; ++k)
                partial[k] += row[k];
        }
    }
    return sum_block_partials(comm, partition, partials, width);
}

double deterministic_sum(const boost::mpi::communicator& comm, const BlockPartition& partition,
                         std::span<const double> local_values) {
    return deterministic_sum(comm, partition, local_values, 1)[0];
}

} // namespace moesim::par
