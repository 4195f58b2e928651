#include "commands.hpp"

#include "experiments/experiment.hpp"

#include "moesim/core/build_info.hpp"
#include "moesim/core/config.hpp"
#include "moesim/core/error.hpp"
#include "moesim/core/log.hpp"
#include "moesim/io/checkpoint.hpp"
#include "moesim/io/inspect.hpp"
#include "moesim/io/output_file.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace moesim::app {

namespace {

// Rank 0 reads the file and broadcasts it, so a config that only the launch node can see
// still works, and every rank fails the same way if it cannot be read.
std::string read_config_file(const boost::mpi::communicator& comm, const std::string& path) {
    std::string text, problem;
    if (comm.rank() == 0) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            problem =
                std::filesystem::exists(path) ? "cannot be read (permissions?)" : "does not exist";
        } else {
            std::ostringstream buffer;
            buffer << in.rdbuf();
            text = buffer.str();
        }
    }
    boost::mpi::broadcast(comm, problem, 0);
    if (!problem.empty())
        throw core::ConfigError({path}, "", "config file " + problem);
    boost::mpi::broadcast(comm, text, 0);
    return text;
}

// Decided on rank 0 and broadcast: every rank refuses together, before any computation.
void check_output_path(const boost::mpi::communicator& comm, const std::string& path, bool force) {
    std::string problem;
    if (comm.rank() == 0) {
        namespace fs = std::filesystem;
        const fs::path p(path);
        const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
        std::error_code ec;
        if (fs::exists(p, ec) && !force)
            problem = fmt::format("output '{}' already exists; pass --force to overwrite it, or "
                                  "choose another file with --out",
                                  path);
        else if (fs::exists(p, ec) && fs::is_directory(p, ec))
            problem = fmt::format("output '{}' is a directory", path);
        else if (!fs::is_directory(dir, ec))
            problem = fmt::format("output directory '{}' does not exist", dir.string());
        else if (access(dir.c_str(), W_OK) != 0)
            problem = fmt::format("output directory '{}' is not writable", dir.string());
    }
    boost::mpi::broadcast(comm, problem, 0);
    if (!problem.empty())
        throw core::UsageError(problem);
}

} // namespace

namespace {

// Keys that may change between a checkpoint and its restart: how long to run, how often to
// checkpoint, and where the output now lives. Everything else changes the trajectory.
bool may_differ_on_restart(const std::string& key) {
    return key == "run.steps" || key == "run.checkpoint_every" || key == "run.out";
}

bool file_exists(const boost::mpi::communicator& comm, const std::string& path) {
    bool exists = false;
    if (comm.rank() == 0) {
        std::error_code ec;
        exists = std::filesystem::is_regular_file(path, ec);
    }
    boost::mpi::broadcast(comm, exists, 0);
    return exists;
}

} // namespace

int run_command(const boost::mpi::communicator& comm, const RunOptions& options) {
    std::optional<io::CheckpointInfo> restart;
    if (!options.restart.empty())
        restart = io::read_checkpoint_info(comm, options.restart);

    // The config: the file if given, else the checkpoint's own config on a restart, else the
    // experiment's embedded defaults.
    std::optional<std::string> text;
    std::string source = "<defaults>";
    if (!options.config_path.empty()) {
        text = read_config_file(comm, options.config_path);
        source = options.config_path;
    } else if (restart) {
        text = restart->config_toml;
        source = "<config of " + restart->path + ">";
    }

    std::vector<std::string> overrides = options.overrides;
    std::string experiment_name = options.experiment;
    if (experiment_name.empty()) {
        experiment_name = core::peek_string(text, source, overrides, "run.experiment")
                              .value_or(restart ? restart->experiment : "mfld");
        const auto known = experiments::experiment_names();
        if (std::find(known.begin(), known.end(), experiment_name) == known.end())
            throw core::ConfigError({source}, "run.experiment",
                                    fmt::format("unknown experiment '{}'; known experiments: {}",
                                                experiment_name, fmt::join(known, ", ")));
    } else {
        overrides.push_back("run.experiment=" + experiment_name);
    }
    if (restart && experiment_name != restart->experiment)
        throw core::UsageError(fmt::format("cannot restart experiment '{}' from '{}': that "
                                           "checkpoint belongs to experiment '{}'",
                                           experiment_name, restart->path, restart->experiment));
    if (!options.out.empty())
        overrides.push_back("run.out=" + options.out);
    if (options.checkpoint_every >= 0)
        overrides.push_back(fmt::format("run.checkpoint_every={}", options.checkpoint_every));

    auto experiment = experiments::make_experiment(experiment_name);
    const core::Schema schema = experiments::run_schema(*experiment);
    const core::Config config = core::resolve_config(schema, text, source, overrides);
    experiment->validate(config, comm);
    std::string out = config.string("run.out");
    if (restart) {
        const core::Config saved = core::resolve_config(schema, restart->config_toml,
                                                        "<config of " + restart->path + ">", {});
        std::vector<std::string> differing;
        for (const auto& key : config.differing_keys(saved))
            if (!may_differ_on_restart(key))
                differing.push_back(key);
        if (!differing.empty())
            throw core::ConfigError(
                {source}, "",
                fmt::format("the config differs from the one checkpoint '{}' was taken with, in: "
                            "{}; only run.steps, run.checkpoint_every and run.out may change "
                            "on a restart",
                            restart->path, fmt::join(differing, ", ")));
        if (out.empty())
            out = restart->output;
        if (!file_exists(comm, out))
            throw core::UsageError(fmt::format(
                "cannot restart: the output '{}' of the checkpointed run does not exist; pass "
                "its location with --out",
                out));
    } else {
        if (out.empty())
            out = experiment_name + ".h5";
        check_output_path(comm, out, options.force);
    }

    const auto seed = static_cast<std::uint64_t>(config.integer("run.seed"));
    core::log::info(fmt::format(
        "moesim {}: {} '{}' on {} rank{}, seed {}, output {}", core::build_info::version(),
        restart ? fmt::format("resuming at step {}", restart->step) : std::string("running"),
        experiment_name, comm.size(), comm.size() == 1 ? "" : "s", seed, out));

    const io::RunInfo run_info{.experiment = experiment_name,
                               .seed = seed,
                               .config_toml = config.to_toml(),
                               .command_line = options.command_line};
    auto output = restart ? io::OutputFile::open_for_restart(comm, out, restart->step)
                          : io::OutputFile::create(comm, out, options.force, run_info);
    io::Checkpointer checkpointer(
        comm, io::checkpoint_path_for(out),
        static_cast<std::uint64_t>(config.integer("run.checkpoint_every")), run_info, out, restart);
    experiments::Context context{comm, config, output, seed, checkpointer};
    std::vector<experiments::KeyFigure> figures;
    try {
        figures = experiment->run(context);
    } catch (const core::Error& error) {
        // A collective error reached every rank here: record it in the file, on all ranks.
        if (error.scope() == core::Scope::collective) {
            const bool stopped = dynamic_cast<const core::StopRequested*>(&error) != nullptr;
            output.set_status(stopped ? io::Status::stopped : io::Status::failed);
            output.close();
        }
        throw;
    }
    output.set_status(io::Status::complete);
    output.close();
    checkpointer.discard_job_checkpoint();

    core::log::info(fmt::format("results: {}", out));
    for (const auto& [name, value] : figures)
        core::log::info(fmt::format("  {:<26} {}", name, value));
    core::log::info(fmt::format("inspect with: moesim inspect {}", out));
    return 0;
}

int config_show_command(const boost::mpi::communicator& comm, const std::string& experiment) {
    auto instance = experiments::make_experiment(experiment);
    if (comm.rank() == 0) {
        std::cout << fmt::format("# moesim {}: default config of experiment '{}' ({}).\n"
                                 "# Save it, edit it and run it: moesim run FILE.toml\n\n",
                                 core::build_info::version(), experiment, instance->description())
                  << experiments::run_schema(*instance).commented_defaults();
    }
    return 0;
}

int config_list_command(const boost::mpi::communicator& comm) {
    if (comm.rank() == 0)
        for (const auto& name : experiments::experiment_names())
            std::cout << fmt::format("{:<10} {}\n", name,
                                     experiments::make_experiment(name)->description());
    return 0;
}

int inspect_command(const boost::mpi::communicator& comm, const std::string& path) {
    if (comm.rank() == 0)
        io::inspect(path, std::cout);
    return 0;
}

} // namespace moesim::app
