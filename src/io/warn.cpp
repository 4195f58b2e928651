#include "io/warn.hpp"

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>

#include <cstdio>

namespace moesim::io::impl {

void warn(const std::string& message) noexcept {
    try {
        if (boost::mpi::environment::initialized() && !boost::mpi::environment::finalized()) {
            const int rank = boost::mpi::communicator().rank();
            std::fprintf(stderr, "[rank %d] warning: %s\n", rank, message.c_str());
        } else {
            std::fprintf(stderr, "warning: %s\n", message.c_str());
        }
        std::fflush(stderr);
    } catch (...) {
        std::fprintf(stderr, "warning: %s\n", message.c_str());
    }
}

} // namespace moesim::io::impl
