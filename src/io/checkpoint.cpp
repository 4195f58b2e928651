#include "moesim/io/checkpoint.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/stop_flag.hpp"
#include "moesim/io/read.hpp"
#include "moesim/io/series.hpp"
#include "moesim/par/communicator.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace moesim::io {

namespace {

std::uint64_t parse_count(const std::string& text, const std::string& what) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0')
        throw std::runtime_error(fmt::format("attribute '{}' is '{}', not a count", what, text));
    return value;
}

// Test hook: MOESIM_INJECT_FAULT="RANK:STEP" throws on that rank at that step, to exercise
// the single-rank failure path (abort, no hang) end to end.
void maybe_inject_fault(int rank, std::uint64_t step) {
    const char* spec = std::getenv("MOESIM_INJECT_FAULT");
    if (spec == nullptr)
        return;
    int fault_rank = -1;
    unsigned long long fault_step = 0;
    if (std::sscanf(spec, "%d:%llu", &fault_rank, &fault_step) == 2 && fault_rank == rank &&
        fault_step == step)
        throw std::runtime_error(
            fmt::format("injected fault at step {} (MOESIM_INJECT_FAULT={})", step, spec));
}

} // namespace

CheckpointInfo read_checkpoint_info(const boost::mpi::communicator& comm,
                                    const std::string& path) {
    CheckpointInfo info;
    info.path = path;
    std::string problem;
    if (comm.rank() == 0) {
        try {
            const std::string version = read_attribute_text(path, "/", "checkpoint_format_version");
            info.format_version = static_cast<std::int64_t>(parse_count(version, "version"));
            info.experiment = read_attribute_text(path, "/", "experiment");
            info.step = parse_count(read_attribute_text(path, "/", "checkpoint_step"), "step");
            info.output_frames =
                parse_count(read_attribute_text(path, "/", "output_frames"), "output_frames");
            info.output = read_attribute_text(path, "/", "output");
            info.config_toml = read_string(path, "/config");
            if (read_attribute_text(path, "/", "status") != "complete")
                problem = "it was not written completely";
            else if (info.format_version != checkpoint_format_version)
                problem = fmt::format("its format version is {}, this moesim reads {}",
                                      info.format_version, checkpoint_format_version);
        } catch (const std::exception& e) {
            problem = fmt::format("it is not a readable moesim checkpoint ({})", e.what());
        }
    }
    boost::mpi::broadcast(comm, problem, 0);
    if (!problem.empty())
        throw core::UsageError(fmt::format("cannot restart from '{}': {}", path, problem));
    boost::mpi::broadcast(comm, info.format_version, 0);
    boost::mpi::broadcast(comm, info.experiment, 0);
    boost::mpi::broadcast(comm, info.step, 0);
    boost::mpi::broadcast(comm, info.output_frames, 0);
    boost::mpi::broadcast(comm, info.output, 0);
    boost::mpi::broadcast(comm, info.config_toml, 0);
    return info;
}

Checkpointer::Checkpointer(boost::mpi::communicator comm, std::string path, std::uint64_t every,
                           RunInfo run, std::string output,
                           std::optional<CheckpointInfo> restart)
    : comm_(std::move(comm)), path_(std::move(path)), every_(every), run_(std::move(run)),
      output_(std::move(output)), restart_(std::move(restart)) {}

bool Checkpointer::due(std::uint64_t step) {
    maybe_inject_fault(comm_.rank(), step);
    stop_ = par::any(comm_, core::stop_signal_received());
    const std::uint64_t start = restart_ ? restart_->step : 0;
    return stop_ || (every_ > 0 && step != start && step % every_ == 0);
}

void Checkpointer::save(std::uint64_t step, std::uint64_t output_frames,
                        std::span<const StateArray> arrays) {
    const std::string temporary = path_ + ".tmp";
    {
        OutputFile file = OutputFile::create(comm_, temporary, true, run_);
        file.add_attribute("checkpoint_format_version", checkpoint_format_version);
        file.add_attribute("checkpoint_step", static_cast<std::int64_t>(step));
        file.add_attribute("output_frames", static_cast<std::int64_t>(output_frames));
        file.add_attribute("output", output_);
        for (const StateArray& array : arrays) {
            auto series = Series::distributed(file, "/state/" + array.name, array.n_global,
                                              array.row_shape);
            series.append(static_cast<std::int64_t>(step), 0.0, array.local_rows);
        }
        file.set_status(Status::complete); // marks the checkpoint whole
        file.close();
    }
    // Closed on every rank; now one rename replaces the old checkpoint, so there is always
    // a whole checkpoint on disk, even if this process dies here.
    comm_.barrier();
    std::string failure;
    if (comm_.rank() == 0 && std::rename(temporary.c_str(), path_.c_str()) != 0)
        failure = std::strerror(errno);
    boost::mpi::broadcast(comm_, failure, 0);
    if (!failure.empty())
        throw core::IoError("rename checkpoint to", path_, "", failure, core::Scope::collective);
    if (stop_)
        throw core::StopRequested(static_cast<long long>(step), path_);
}

std::optional<std::uint64_t> Checkpointer::restart_step() const {
    if (!restart_)
        return std::nullopt;
    return restart_->step;
}

std::vector<double> Checkpointer::restore(const std::string& name, std::uint64_t first_row,
                                          std::uint64_t n_rows) const {
    core::require(restart_.has_value(), "Checkpointer::restore without a restart checkpoint");
    return read_float64_rows(restart_->path, "/state/" + name + "/value", 0, first_row, n_rows);
}

} // namespace moesim::io
