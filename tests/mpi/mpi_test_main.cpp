// MPI test main: doctest on every rank with output captured per rank; the failing ranks'
// output is gathered to rank 0 and printed in rank order, prefixed [rank r/N], and every
// rank returns the same code. (Debian 12's doctest 2.4.9 has no doctest_mpi.h.)
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "testing.hpp"

#include "moesim/par/communicator.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {
std::unique_ptr<boost::mpi::communicator> world_comm;
}

namespace moesim::testing {
const boost::mpi::communicator& world() {
    return *world_comm;
}

bool all_ranks(const boost::mpi::communicator& comm, bool ok) {
    return !par::any(comm, !ok);
}

std::vector<double> gather_all(const boost::mpi::communicator& comm, const double* data,
                               std::size_t n) {
    std::vector<std::vector<double>> parts;
    boost::mpi::all_gather(comm, std::vector<double>(data, data + n), parts);
    std::vector<double> all;
    for (const auto& part : parts)
        all.insert(all.end(), part.begin(), part.end());
    return all;
}
} // namespace moesim::testing

int main(int argc, char** argv) {
    boost::mpi::environment env(argc, argv, boost::mpi::threading::single);
    int code = 0;
    {
        world_comm = std::make_unique<boost::mpi::communicator>(
            moesim::par::duplicate(boost::mpi::communicator()));
        const auto& comm = *world_comm;

        std::ostringstream captured;
        doctest::Context context(argc, argv);
        context.setCout(&captured);
        context.setOption("no-colors", true);
        int local = context.run();
        if (context.shouldExit())
            return local;

        std::vector<std::string> outputs;
        boost::mpi::gather(comm, local != 0 ? captured.str() : std::string(), outputs, 0);
        code = moesim::par::any(comm, local != 0) ? 1 : 0;
        if (comm.rank() == 0) {
            for (int r = 0; r < comm.size(); ++r) {
                if (outputs[static_cast<std::size_t>(r)].empty())
                    continue;
                std::istringstream lines(outputs[static_cast<std::size_t>(r)]);
                for (std::string line; std::getline(lines, line);)
                    std::cout << "[rank " << r << "/" << comm.size() << "] " << line << '\n';
            }
            if (code == 0)
                std::cout << captured.str(); // rank 0's summary
            std::cout << (code == 0 ? "all ranks passed" : "FAILED on some rank") << " ("
                      << comm.size() << " ranks)\n";
        }
        world_comm.reset();
    }
    return code;
}
