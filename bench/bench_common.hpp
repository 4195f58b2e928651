#pragma once
// Shared helpers of the benchmark executables: timing statistics, command-line values and
// JSON output (each benchmark prints one JSON document that bench/run collects).

#include "moesim/core/allocator.hpp"
#include "moesim/core/build_info.hpp"

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds this thread has run: unlike wall time, not inflated while other users' processes
// hold the core (this machine is shared).
inline double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

inline double median(std::vector<double> values) {
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

/// The value following `--name` in argv, or `fallback`.
inline std::string option(int argc, char** argv, std::string_view name, std::string fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (name == argv[i])
            return argv[i + 1];
    return fallback;
}

/// Parses a --sizes list "AxBxC,DxExF,...": each item is `fields` integers joined by 'x'.
/// Throws std::runtime_error naming the item and the `expected` form ("DIMxPARTICLESxBATCH").
inline std::vector<std::vector<Eigen::Index>>
parse_size_list(const std::string& text, std::size_t fields, const std::string& expected) {
    std::vector<std::vector<Eigen::Index>> items;
    std::stringstream list(text);
    std::string item;
    while (std::getline(list, item, ',')) {
        std::vector<Eigen::Index> values;
        bool ok = true;
        std::stringstream parts(item);
        std::string part;
        while (ok && std::getline(parts, part, 'x')) {
            std::size_t used = 0;
            try {
                values.push_back(static_cast<Eigen::Index>(std::stoll(part, &used)));
            } catch (const std::exception&) {
            }
            ok = used != 0 && used == part.size();
        }
        if (!ok || values.size() != fields)
            throw std::runtime_error("bad size '" + item + "', expected " + expected);
        items.push_back(std::move(values));
    }
    return items;
}

inline std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out + "\"";
}

/// Median seconds of one call of `work`, timed in groups long enough (>= 2 ms) for the clock,
/// until `min_seconds` have passed and at least 5 groups were timed. Local.
inline double time_local(const std::function<void()>& work, double min_seconds) {
    work();
    int per_group = 1;
    for (auto start = Clock::now(); seconds_since(start) < 2e-3; per_group *= 2) {
        start = Clock::now();
        for (int i = 0; i < per_group; ++i)
            work();
        if (seconds_since(start) >= 2e-3)
            break;
    }
    std::vector<double> samples;
    const auto begin = Clock::now();
    while (samples.size() < 5 || seconds_since(begin) < min_seconds) {
        const auto start = Clock::now();
        for (int i = 0; i < per_group; ++i)
            work();
        samples.push_back(seconds_since(start) / per_group);
    }
    return median(samples);
}

struct GemmResult {
    std::string name;
    Eigen::Index m, k, n;
    double seconds;
    double gflops() const { return 2.0 * double(m) * double(k) * double(n) / seconds / 1e9; }
    std::string json() const {
        return fmt::format(
            "{{\"name\": \"{}\", \"m\": {}, \"k\": {}, \"n\": {}, \"seconds\": {:.6e}, "
            "\"gflops\": {:.3f}}}",
            name, m, k, n, seconds, gflops());
    }
};

inline GemmResult gemm_square(Eigen::Index n, double min_seconds) {
    const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n), b = Eigen::MatrixXd::Random(n, n);
    Eigen::MatrixXd c(n, n);
    const double s = time_local([&] { c.noalias() = a * b; }, min_seconds);
    return {"square", n, n, n, s};
}

/// The forward product of a block: A (m x k, row-major) times B (n x k, row-major)
/// transposed, as the models form (inputs) x (a block's or an expert's weights)^T.
inline GemmResult gemm_a_bt(std::string name, Eigen::Index m, Eigen::Index k, Eigen::Index n,
                            double min_seconds) {
    using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const RowMatrix a = RowMatrix::Random(m, k), b = RowMatrix::Random(n, k);
    Eigen::MatrixXd c(m, n);
    const double s = time_local([&] { c.noalias() = a * b.transpose(); }, min_seconds);
    return {std::move(name), m, k, n, s};
}

/// The weight-gradient product: A (k x m, column-major) transposed times B (k x n,
/// row-major), scaled by `alpha`, as the models form (pre-activation gradients)^T (inputs).
inline GemmResult gemm_at_b(std::string name, Eigen::Index m, Eigen::Index k, Eigen::Index n,
                            double alpha, double min_seconds) {
    using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::MatrixXd a = Eigen::MatrixXd::Random(k, m);
    const RowMatrix b = RowMatrix::Random(k, n);
    RowMatrix c(m, n);
    const double s = time_local([&] { c.noalias() = alpha * (a.transpose() * b); }, min_seconds);
    return {std::move(name), m, k, n, s};
}

/// Build facts every benchmark records next to its numbers.
inline std::string build_json(const boost::mpi::communicator& comm) {
    return fmt::format("{{\"compiler\": {}, \"flags\": {}, \"git_commit\": {}, \"eigen\": "
                       "\"{}.{}.{}\", \"nranks\": {}}}",
                       quoted(core::build_info::compiler()),
                       quoted(core::build_info::compile_flags()),
                       quoted(core::build_info::git_commit()), EIGEN_WORLD_VERSION,
                       EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, comm.size());
}

/// Writes `json` to the file named by `--output`, or to stdout.
inline void emit(int argc, char** argv, const std::string& json) {
    const std::string path = option(argc, argv, "--output", "");
    if (path.empty()) {
        std::fputs((json + "\n").c_str(), stdout);
        return;
    }
    std::ofstream out(path);
    out << json << "\n";
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

/// The shared main of the benchmark executables: runs `run(world, argc, argv)` on every rank,
/// emits its JSON from rank 0, and aborts the job with "[rank r/N] NAME: error: ..." if any
/// rank throws, so a failing benchmark never hangs.
template <class Run> int bench_main(int argc, char** argv, const char* name, Run run) {
    boost::mpi::environment env(argc, argv, boost::mpi::threading::single, false);
    core::keep_freed_memory();
    const boost::mpi::communicator world;
    try {
        const std::string json = run(world, argc, argv);
        if (world.rank() == 0)
            emit(argc, argv, json);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "[rank %d/%d] %s: error: %s\n", world.rank(), world.size(), name,
                     e.what());
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return 0;
}

} // namespace moesim::bench
