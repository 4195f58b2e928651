#include "moesim/par/communicator.hpp"

#include "moesim/par/mpi_check.hpp"

#include <fmt/format.h>

#include <string>

namespace moesim::par {

namespace impl {
void check_mpi(int code, const char* call_text) {
    if (code == MPI_SUCCESS)
        return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
        length = 0;
    throw core::MpiError(call_text, code, std::string(text, static_cast<std::size_t>(length)));
}
} // namespace impl

boost::mpi::communicator duplicate(const boost::mpi::communicator& comm) {
    MPI_Comm dup = MPI_COMM_NULL;
    MOESIM_MPI_CHECK(MPI_Comm_dup(comm, &dup));
    MOESIM_MPI_CHECK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
    // comm_take_ownership: Boost.MPI frees it with the last copy of the communicator.
    return boost::mpi::communicator(dup, boost::mpi::comm_take_ownership);
}

std::uint64_t exclusive_prefix_sum(const boost::mpi::communicator& comm, std::uint64_t value) {
    std::uint64_t below = 0;
    MOESIM_MPI_CHECK(MPI_Exscan(&value, &below, 1, MPI_UINT64_T, MPI_SUM, comm));
    return comm.rank() == 0 ? 0 : below; // MPI_Exscan leaves rank 0's result undefined
}

std::uint64_t total(const boost::mpi::communicator& comm, std::uint64_t value) {
    std::uint64_t sum = 0;
    MOESIM_MPI_CHECK(MPI_Allreduce(&value, &sum, 1, MPI_UINT64_T, MPI_SUM, comm));
    return sum;
}

bool any(const boost::mpi::communicator& comm, bool flag) {
    int local = flag ? 1 : 0;
    int global = 0;
    MOESIM_MPI_CHECK(MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_LOR, comm));
    return global != 0;
}

unsigned any_bits(const boost::mpi::communicator& comm, unsigned bits) {
    unsigned global = 0;
    MOESIM_MPI_CHECK(MPI_Allreduce(&bits, &global, 1, MPI_UNSIGNED, MPI_BOR, comm));
    return global;
}

void check_same(const boost::mpi::communicator& comm, std::int64_t value, std::string_view what) {
#ifndef NDEBUG
    std::int64_t pair[2] = {-value, value};
    std::int64_t max[2] = {0, 0};
    MOESIM_MPI_CHECK(MPI_Allreduce(pair, max, 2, MPI_INT64_T, MPI_MAX, comm));
    if (-max[0] != max[1])
        throw core::InternalError(
            fmt::format("'{}' differs between ranks (min {}, max {})", what, -max[0], max[1]));
#else
    (void)comm;
    (void)value;
    (void)what;
#endif
}

} // namespace moesim::par
