// bench_hdf5_write: bandwidth of io::Series::append for a distributed series
// value[F][N][d] (the particle trajectory layout), including the H5Fflush each append does
// (with the MPI-IO driver H5Fflush calls MPI_File_sync: one fsync per rank per frame, seen
// with strace on HDF5 1.10.8 / Open MPI 4.1). bench/run compares it with dd writing the same
// bytes to the same directory, with and without a sync per frame.
// Usage: bench_hdf5_write --dir DIR [--particles 65536] [--dim 16] [--frames 32] [--reps 3]
//        [--output FILE]; runs under mpirun at any rank count.

#include "bench_common.hpp"

#include "moesim/io/output_file.hpp"
#include "moesim/io/series.hpp"
#include "moesim/par/block_partition.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/environment.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <filesystem>

using namespace moesim;
using bench::Clock;

namespace {

std::string run(const boost::mpi::communicator& comm, int argc, char** argv) {
    const std::string dir = bench::option(argc, argv, "--dir", ".");
    const auto n_global = std::stoull(bench::option(argc, argv, "--particles", "65536"));
    const auto dim = std::stoull(bench::option(argc, argv, "--dim", "16"));
    const int frames = std::stoi(bench::option(argc, argv, "--frames", "32"));
    const int reps = std::stoi(bench::option(argc, argv, "--reps", "3"));

    const par::BlockPartition partition(n_global, 1024, comm.size());
    const par::IdRange mine = partition.items_of(comm.rank());
    std::vector<double> values(mine.size() * dim);
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = double(mine.begin * dim + i) * 1e-3;
    const double frame_bytes = double(n_global * dim * sizeof(double));

    std::vector<double> seconds, create_close;
    for (int rep = 0; rep < reps; ++rep) {
        const std::string path =
            fmt::format("{}/bench_hdf5_write.np{}.rep{}.h5", dir, comm.size(), rep);
        comm.barrier();
        const auto open_start = Clock::now();
        auto file = io::OutputFile::create(comm, path, true,
                                           {"bench_hdf5_write", 0, "", "bench_hdf5_write"});
        auto series = io::Series::distributed(file, "/bench/value", n_global, {dim});
        double setup = bench::seconds_since(open_start);

        comm.barrier();
        const auto start = Clock::now();
        for (int frame = 0; frame < frames; ++frame)
            series.append(frame, double(frame), values);
        comm.barrier();
        seconds.push_back(bench::seconds_since(start));

        const auto close_start = Clock::now();
        file.close();
        comm.barrier();
        create_close.push_back(setup + bench::seconds_since(close_start));
        if (comm.rank() == 0)
            std::filesystem::remove(path);
    }
    const double total_bytes = frame_bytes * frames;
    const double med = bench::median(seconds);
    std::string reps_list;
    for (double s : seconds)
        reps_list += fmt::format("{}{:.6e}", reps_list.empty() ? "" : ", ", s);
    return fmt::format(
        "{{\"benchmark\": \"hdf5_write\", \"build\": {}, \"dir\": {}, \"particles\": {}, "
        "\"dim\": {}, \"frames\": {}, \"frame_bytes\": {:.0f}, \"total_bytes\": {:.0f}, "
        "\"flush_per_frame\": \"H5Fflush (MPI-IO driver: MPI_File_sync, an fsync per rank)\", "
        "\"rep_seconds\": [{}], "
        "\"median_seconds\": {:.6e}, \"bytes_per_second\": {:.6e}, "
        "\"create_and_close_median_seconds\": {:.6e}}}",
        bench::build_json(comm), bench::quoted(dir), n_global, dim, frames, frame_bytes,
        total_bytes, reps_list, med, total_bytes / med, bench::median(create_close));
}

} // namespace

int main(int argc, char** argv) {
    boost::mpi::environment env(argc, argv, boost::mpi::threading::single, false);
    const boost::mpi::communicator world;
    try {
        const std::string json = run(world, argc, argv);
        if (world.rank() == 0)
            bench::emit(argc, argv, json);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "[rank %d/%d] bench_hdf5_write: error: %s\n", world.rank(),
                     world.size(), e.what());
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return 0;
}
