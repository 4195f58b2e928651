#include "moesim/io/checkpoint.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/stop_flag.hpp"
#include "moesim/io/read.hpp"
#include "moesim/io/series.hpp"
#include "moesim/io/table.hpp"
#include "moesim/par/communicator.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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

// Test hooks. MOESIM_INJECT_FAULT="RANK:STEP" throws on that rank at that step, to exercise
// the single-rank failure path (abort, no hang); MOESIM_STOP_AT="STEP" requests a stop on
// every rank at that step, as a signal would, so stop-and-restart is testable at an exact
// step.
void apply_test_hooks(int rank, std::uint64_t step) {
    if (const char* spec = std::getenv("MOESIM_INJECT_FAULT")) {
        int fault_rank = -1;
        unsigned long long fault_step = 0;
        if (std::sscanf(spec, "%d:%llu", &fault_rank, &fault_step) == 2 && fault_rank == rank &&
            fault_step == step)
            throw std::runtime_error(
                fmt::format("injected fault at step {} (MOESIM_INJECT_FAULT={})", step, spec));
    }
    if (const char* spec = std::getenv("MOESIM_STOP_AT")) {
        unsigned long long stop_step = 0;
        if (std::sscanf(spec, "%llu", &stop_step) == 1 && stop_step == step)
            core::request_stop();
    }
}

std::string state_path(const std::string& name) {
    return "/state/" + name;
}

// Writes `file` as `path` atomically: the caller wrote and closed `temporary`; one rename
// replaces the old checkpoint, so a whole checkpoint is on disk even if we die here.
std::string rename_into_place(const std::string& temporary, const std::string& path) {
    if (std::rename(temporary.c_str(), path.c_str()) != 0)
        return std::strerror(errno);
    return {};
}

} // namespace

std::string checkpoint_path_for(const std::string& output) {
    const std::string suffix = ".h5";
    if (output.size() > suffix.size() && output.ends_with(suffix))
        return output.substr(0, output.size() - suffix.size()) + ".ckpt.h5";
    return output + ".ckpt.h5";
}

CheckpointInfo read_checkpoint_info(const boost::mpi::communicator& comm, const std::string& path) {
    CheckpointInfo info;
    info.path = path;
    std::string problem;
    if (comm.rank() == 0) {
        try {
            const std::string version = read_attribute_text(path, "/", "checkpoint_format_version");
            info.format_version = static_cast<std::int64_t>(parse_count(version, "version"));
            if (info.format_version != checkpoint_format_version) {
                problem = fmt::format("its format version is {}, this moesim reads {}",
                                      info.format_version, checkpoint_format_version);
            } else {
                info.experiment = read_attribute_text(path, "/", "experiment");
                info.step = parse_count(read_attribute_text(path, "/", "checkpoint_step"), "step");
                info.output_frames =
                    parse_count(read_attribute_text(path, "/", "output_frames"), "output_frames");
                info.output = read_attribute_text(path, "/", "output");
                info.jobs_total =
                    parse_count(read_attribute_text(path, "/", "jobs_total"), "jobs_total");
                info.jobs_done =
                    parse_count(read_attribute_text(path, "/", "jobs_done"), "jobs_done");
                info.config_toml = read_string(path, "/config");
                if (read_attribute_text(path, "/", "status") != "complete")
                    problem = "it was not written completely";
            }
        } catch (const std::exception& e) {
            problem = fmt::format("it is not a readable moesim checkpoint ({})", e.what());
        }
    }
    boost::mpi::broadcast(comm, problem, 0);
    if (!problem.empty())
        throw core::UsageError(fmt::format("cannot restart from '{}': {}", path, problem));
    boost::mpi::broadcast(comm, info.experiment, 0);
    boost::mpi::broadcast(comm, info.output, 0);
    boost::mpi::broadcast(comm, info.config_toml, 0);
    std::uint64_t numbers[5] = {static_cast<std::uint64_t>(info.format_version), info.step,
                                info.output_frames, info.jobs_total, info.jobs_done};
    boost::mpi::broadcast(comm, numbers, 5, 0);
    info.format_version = static_cast<std::int64_t>(numbers[0]);
    info.step = numbers[1];
    info.output_frames = numbers[2];
    info.jobs_total = numbers[3];
    info.jobs_done = numbers[4];
    return info;
}

Checkpointer::Checkpointer(boost::mpi::communicator comm, std::string path, std::uint64_t every,
                           RunInfo run, std::string output, std::optional<CheckpointInfo> restart)
    : comm_(std::move(comm)), path_(std::move(path)), every_(every), run_(std::move(run)),
      output_(std::move(output)), restart_(std::move(restart)) {}

void Checkpointer::agree(bool bad) {
    constexpr unsigned stop_bit = 1, bad_bit = 2;
    const unsigned flags =
        par::any_bits(comm_, (core::stop_signal_received() ? stop_bit : 0u) | (bad ? bad_bit : 0u));
    stop_ = (flags & stop_bit) != 0;
    any_bad_ = (flags & bad_bit) != 0;
}

bool Checkpointer::due(std::uint64_t step, bool bad) {
    apply_test_hooks(comm_.rank(), step);
    agree(bad);
    const std::uint64_t start = restart_ ? restart_->step : 0;
    return stop_ || (every_ > 0 && step != start && step % every_ == 0);
}

void Checkpointer::save(std::uint64_t step, std::uint64_t output_frames,
                        const core::StateSet& state) {
    const std::string temporary = path_ + ".tmp";
    {
        OutputFile file = OutputFile::create(comm_, temporary, true, run_);
        file.add_attribute("checkpoint_format_version", checkpoint_format_version);
        file.add_attribute("checkpoint_step", static_cast<std::int64_t>(step));
        file.add_attribute("output_frames", static_cast<std::int64_t>(output_frames));
        file.add_attribute("output", output_);
        file.add_attribute("jobs_total", std::int64_t{0});
        file.add_attribute("jobs_done", std::int64_t{0});
        for (const core::StateArray& array : state.arrays()) {
            auto series = array.distributed
                              ? Series::distributed(file, state_path(array.name), array.n_global,
                                                    array.row_shape)
                              : Series::replicated(file, state_path(array.name), array.row_shape);
            series.append(static_cast<std::int64_t>(step), 0.0, array.values);
        }
        file.set_status(Status::complete); // marks the checkpoint whole
        file.close();
    }
    comm_.barrier(); // closed on every rank before the rename
    std::string failure;
    if (comm_.rank() == 0)
        failure = rename_into_place(temporary, path_);
    boost::mpi::broadcast(comm_, failure, 0);
    if (!failure.empty())
        throw core::IoError("rename checkpoint to", path_, "", failure, core::Scope::collective);
    if (stop_)
        throw core::StopRequested(fmt::format("at step {}", step), path_);
}

void Checkpointer::restore(core::StateSet& state) const {
    core::require(restart_.has_value(), "Checkpointer::restore without a restart checkpoint");
    for (const core::StateArray& array : state.arrays()) {
        const std::string value_path = state_path(array.name) + "/value";
        const std::vector<std::uint64_t> shape = [&] {
            try {
                return dataset_shape(restart_->path, value_path);
            } catch (const core::IoError&) {
                throw core::UsageError(fmt::format(
                    "cannot restart from '{}': it holds no state array '{}' (written by another "
                    "version of this experiment?)",
                    restart_->path, array.name));
            }
        }();
        std::vector<std::uint64_t> expected{1};
        if (array.distributed)
            expected.push_back(array.n_global);
        expected.insert(expected.end(), array.row_shape.begin(), array.row_shape.end());
        if (shape != expected)
            throw core::UsageError(fmt::format(
                "cannot restart from '{}': state array '{}' has shape [{}] there, this run "
                "needs [{}]",
                restart_->path, array.name, fmt::join(shape, "]["), fmt::join(expected, "][")));
        const std::vector<double> values =
            array.distributed
                ? read_float64_rows(restart_->path, value_path, 0, array.first_row, array.n_local())
                : read_float64(restart_->path, value_path).values;
        core::require(values.size() == array.values.size(), "restore: state array size");
        std::copy(values.begin(), values.end(), array.values.begin());
    }
}

void Checkpointer::save_jobs(const JobRecords& records) {
    core::require(records.rows.size() == records.ids.size() * records.width,
                  "Checkpointer::save_jobs: rows do not match ids");
    const boost::mpi::communicator self(MPI_COMM_SELF, boost::mpi::comm_attach);
    const std::string temporary = path_ + ".tmp";
    {
        OutputFile file = OutputFile::create(self, temporary, true, run_);
        file.add_attribute("checkpoint_format_version", checkpoint_format_version);
        file.add_attribute("checkpoint_step", std::int64_t{0});
        file.add_attribute("output_frames", std::int64_t{0});
        file.add_attribute("output", output_);
        file.add_attribute("jobs_total", static_cast<std::int64_t>(records.n_jobs));
        file.add_attribute("jobs_done", static_cast<std::int64_t>(records.ids.size()));
        const std::vector<std::int64_t> ids(records.ids.begin(), records.ids.end());
        write_replicated(file, "/jobs/id", {ids.size()}, std::span<const std::int64_t>(ids));
        write_replicated(file, "/jobs/record", {records.ids.size(), records.width},
                         std::span<const double>(records.rows));
        file.set_status(Status::complete);
        file.close();
    }
    const std::string failure = rename_into_place(temporary, path_);
    if (!failure.empty())
        throw core::IoError("rename checkpoint to", path_, "", failure);
}

JobRecords Checkpointer::restore_jobs() const {
    JobRecords records;
    if (!restart_ || restart_->jobs_done == 0)
        return records;
    records.n_jobs = restart_->jobs_total;
    const Array<std::int64_t> ids = read_int64(restart_->path, "/jobs/id");
    Array<double> rows = read_float64(restart_->path, "/jobs/record");
    if (ids.shape.size() != 1 || rows.shape.size() != 2 || rows.shape[0] != ids.shape[0])
        throw core::UsageError(fmt::format("cannot restart from '{}': its job records are "
                                           "malformed (/jobs/id and /jobs/record disagree)",
                                           restart_->path));
    records.width = rows.shape[1];
    for (std::int64_t id : ids.values) {
        if (id < 0 || static_cast<std::uint64_t>(id) >= records.n_jobs)
            throw core::UsageError(fmt::format("cannot restart from '{}': job id {} is outside "
                                               "its {} jobs",
                                               restart_->path, id, records.n_jobs));
        records.ids.push_back(static_cast<std::uint64_t>(id));
    }
    records.rows = std::move(rows.values);
    return records;
}

void Checkpointer::discard_job_checkpoint() {
    if (comm_.rank() == 0) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(path_, ec)) {
            try {
                if (read_attribute_text(path_, "/", "jobs_total") != "0")
                    std::filesystem::remove(path_, ec);
            } catch (const core::IoError&) {
                // Not a checkpoint we can read: leave it alone.
            }
        }
    }
    comm_.barrier();
}

std::optional<std::uint64_t> Checkpointer::restart_step() const {
    if (!restart_)
        return std::nullopt;
    return restart_->step;
}

} // namespace moesim::io
