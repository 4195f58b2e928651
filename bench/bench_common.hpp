#pragma once
// Shared helpers of the benchmark executables: timing statistics, command-line values and
// JSON output (each benchmark prints one JSON document that bench/run collects).

#include "moesim/core/build_info.hpp"

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
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

} // namespace moesim::bench
