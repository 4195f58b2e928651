#include "commands.hpp"

#include "experiments/experiment.hpp"

#include "moesim/core/build_info.hpp"
#include "moesim/core/config.hpp"
#include "moesim/core/error.hpp"
#include "moesim/core/log.hpp"
#include "moesim/io/inspect.hpp"
#include "moesim/io/output_file.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <fmt/format.h>

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
            problem = std::filesystem::exists(path) ? "cannot be read (permissions?)"
                                                    : "does not exist";
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

int run_command(const boost::mpi::communicator& comm, const RunOptions& options) {
    std::optional<std::string> text;
    if (!options.config_path.empty())
        text = read_config_file(comm, options.config_path);
    const std::string source = options.config_path.empty() ? "<defaults>" : options.config_path;

    std::vector<std::string> overrides = options.overrides;
    std::string experiment_name = options.experiment;
    if (experiment_name.empty())
        experiment_name = core::peek_string(text, source, overrides, "run.experiment").value_or("mfld");
    else
        overrides.push_back("run.experiment=" + experiment_name);
    if (!options.out.empty())
        overrides.push_back("run.out=" + options.out);

    auto experiment = experiments::make_experiment(experiment_name);
    const core::Schema schema = experiments::run_schema(*experiment);
    const core::Config config = core::resolve_config(schema, text, source, overrides);
    std::string out = config.string("run.out");
    if (out.empty())
        out = experiment_name + ".h5";
    check_output_path(comm, out, options.force);

    const auto seed = static_cast<std::uint64_t>(config.integer("run.seed"));
    core::log::info(fmt::format("moesim {}: running '{}' on {} rank{}, seed {}, output {}",
                                core::build_info::version(), experiment_name, comm.size(),
                                comm.size() == 1 ? "" : "s", seed, out));

    auto output = io::OutputFile::create(
        comm, out, options.force,
        {.experiment = experiment_name, .seed = seed, .config_toml = config.to_toml(),
         .command_line = options.command_line});
    experiments::Context context{comm, config, output, seed};
    std::vector<experiments::KeyFigure> figures;
    try {
        figures = experiment->run(context);
    } catch (const core::Error& error) {
        // A collective error reached every rank here: record it in the file, on all ranks.
        if (error.scope() == core::Scope::collective) {
            output.set_status(io::Status::failed);
            output.close();
        }
        throw;
    }
    output.set_status(io::Status::complete);
    output.close();

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
