// The `moesim` command. The only place that ends the job: a collective error is reported
// once by rank 0 and every rank returns its exit code; a local or unknown error is printed
// by the rank that saw it and aborts the whole job, so nothing hangs in a collective.

#include "commands.hpp"

#include "experiments/experiment.hpp"

#include "moesim/core/allocator.hpp"
#include "moesim/core/build_info.hpp"
#include "moesim/core/error.hpp"
#include "moesim/core/log.hpp"
#include "moesim/core/stop_flag.hpp"
#include "moesim/par/communicator.hpp"

#include <CLI/CLI.hpp>
#include <boost/mpi/environment.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <iostream>

namespace {

[[noreturn]] void abort_job(int rank, int nranks, const char* what) {
    std::fprintf(stderr, "[rank %d/%d] moesim: error: %s\n", rank, nranks, what);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1); // MPI_Abort does not return; this keeps [[noreturn]] honest
}

std::string join_arguments(int argc, char** argv) {
    std::string line;
    for (int i = 0; i < argc; ++i)
        line += (i ? " " : "") + std::string(argv[i]);
    return line;
}

} // namespace

int main(int argc, char** argv) {
    boost::mpi::environment env(argc, argv, boost::mpi::threading::single, false);
    moesim::core::keep_freed_memory();
    const boost::mpi::communicator world;
    const int rank = world.rank(), nranks = world.size();
    moesim::core::log::configure(rank, false);

    CLI::App app{"moesim: MPI simulations of mixture-of-experts and mean-field models.\n"
                 "Run under mpirun to shard particles and experts over ranks; results go to "
                 "one parallel HDF5 file per run."};
    app.set_version_flag("--version", std::string(moesim::core::build_info::version()) + " (" +
                                          std::string(moesim::core::build_info::git_commit()) +
                                          ")");
    app.require_subcommand(1);

    moesim::app::RunOptions run_options;
    bool quiet = false;
    auto* run = app.add_subcommand("run", "run an experiment (default: the embedded mfld demo)");
    run->add_option("config", run_options.config_path, "TOML config file (optional)");
    run->add_option("--experiment,-e", run_options.experiment,
                    "experiment to run (overrides run.experiment); see 'moesim config list'");
    run->add_option("--set,-s", run_options.overrides,
                    "override one config value, e.g. --set mfld.particles=4096 (repeatable)")
        ->allow_extra_args(false);
    run->add_option("--out,-o", run_options.out, "output HDF5 file (overrides run.out)");
    run->add_flag("--force,-f", run_options.force, "overwrite an existing output file");
    run->add_option("--checkpoint-every", run_options.checkpoint_every,
                    "write NAME.ckpt.h5 every N steps (overrides run.checkpoint_every; a stop "
                    "signal always writes one)")
        ->check(CLI::NonNegativeNumber);
    run->add_option("--restart", run_options.restart,
                    "resume the run that wrote this checkpoint, at any rank count, appending "
                    "to its output");
    run->add_flag("--quiet,-q", quiet, "no progress or summary output");

    auto* config = app.add_subcommand("config", "show default configs");
    config->require_subcommand(1);
    std::string show_name;
    auto* show = config->add_subcommand("show", "print an experiment's default config with a "
                                                "comment per key");
    show->add_option("experiment", show_name, "experiment name")->required();
    auto* list = config->add_subcommand("list", "list the experiments");

    std::string inspect_path;
    auto* inspect = app.add_subcommand("inspect", "summarise an output file: provenance, "
                                                  "status, datasets, last observables");
    inspect->add_option("file", inspect_path, "HDF5 file written by moesim run")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // Every rank parsed the same argv; rank 0 speaks. Help and --version exit 0.
        int code = e.get_exit_code();
        if (rank == 0)
            app.exit(e);
        return code == 0 ? 0 : 2;
    }
    moesim::core::log::configure(rank, quiet);
    moesim::core::install_stop_handlers();
    run_options.command_line = join_arguments(argc, argv);

    try {
        const auto comm = moesim::par::duplicate(world);
        if (*run)
            return moesim::app::run_command(comm, run_options);
        if (*show)
            return moesim::app::config_show_command(comm, show_name);
        if (*list)
            return moesim::app::config_list_command(comm);
        if (*inspect)
            return moesim::app::inspect_command(comm, inspect_path);
        return 2;
    } catch (const moesim::core::Error& e) {
        if (e.scope() == moesim::core::Scope::local && nranks > 1)
            abort_job(rank, nranks, e.what());
        if (rank == 0)
            std::fprintf(stderr, "moesim: %s%s\n", e.exit_code() == 75 ? "" : "error: ", e.what());
        return e.exit_code();
    } catch (const std::exception& e) {
        if (nranks > 1)
            abort_job(rank, nranks, e.what());
        std::fprintf(stderr, "moesim: error: %s\n", e.what());
        return 1;
    }
}
