#pragma once
// What an experiment is: a name, a config schema with defaults, and run(Context&). The
// registry maps names to factories, so adding an experiment is one new file in this folder
// plus one line in registry.cpp. Experiments reach MPI and HDF5 only through par and io.

#include "moesim/core/config.hpp"
#include "moesim/core/progress.hpp"
#include "moesim/io/checkpoint.hpp"
#include "moesim/io/output_file.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::experiments {

/// Everything a running experiment may use. The app builds it after the config is resolved
/// and the output file is created.
struct Context {
    boost::mpi::communicator comm; ///< private duplicate of the world communicator
    const core::Config& config;
    io::OutputFile& output;
    std::uint64_t seed; ///< run.seed: root of every Philox stream
    /// Poll checkpoint.due(step) at the top of every step and save the whole state when it
    /// says so; on a restart, start at checkpoint.restart_step() from checkpoint.restore().
    io::Checkpointer& checkpoint;
};

/// A figure printed at the end of a run ("final objective", "0.0123").
struct KeyFigure {
    std::string name;
    std::string value;
};

/// Defaults of the shared [run] keys that differ per experiment.
struct RunDefaults {
    std::int64_t steps = 1000;
    std::int64_t frame_every = 50;
    std::int64_t block_size = 64;
    std::int64_t checkpoint_every = 0; ///< steps, or finished jobs for job experiments
};

/// One experiment of MODELS.md.
class Experiment {
public:
    virtual ~Experiment() = default;
    /// The name used in configs and on the command line ("mfld").
    virtual std::string_view name() const = 0;
    /// One line for `moesim --help` and `moesim config list`.
    virtual std::string_view description() const = 0;
    virtual RunDefaults run_defaults() const { return {}; }
    /// Adds this experiment's keys (table [name]) to `schema`.
    virtual void declare(core::Schema& schema) const = 0;
    /// Checks what the schema cannot (limits that depend on several keys or on the machine,
    /// such as memory per rank) before any file is created, so bad input never leaves a
    /// partial output. Throws core::ConfigError naming the key. Collective over comm.
    virtual void validate(const core::Config& config, const boost::mpi::communicator& comm) const;
    /// Runs to completion, writing into ctx.output. Collective over ctx.comm. Returns the
    /// figures printed at the end.
    virtual std::vector<KeyFigure> run(Context& ctx) = 0;
};

/// Names of all registered experiments, in registry order.
std::vector<std::string> experiment_names();

/// A new instance of experiment `name`; throws core::UsageError listing the known names.
std::unique_ptr<Experiment> make_experiment(std::string_view name);

/// The full schema of a run of `experiment`: [run] keys plus the experiment's table.
core::Schema run_schema(const Experiment& experiment);

} // namespace moesim::experiments
