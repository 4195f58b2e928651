#include "experiments/experiment.hpp"

#include "moesim/core/error.hpp"

#include <fmt/format.h>

#include <functional>
#include <limits>
#include <utility>

namespace moesim::experiments {

// Each experiment's factory, defined in its own file.
std::unique_ptr<Experiment> make_mfld();
std::unique_ptr<Experiment> make_sgd();
std::unique_ptr<Experiment> make_rates();
std::unique_ptr<Experiment> make_misspec();
std::unique_ptr<Experiment> make_poc();
std::unique_ptr<Experiment> make_routing();

namespace {
using Factory = std::unique_ptr<Experiment> (*)();
// The registry: one line per experiment.
const std::pair<const char*, Factory> registry[] = {
    {"mfld", &make_mfld},
    {"sgd", &make_sgd},
    {"rates", &make_rates},
    {"misspec", &make_misspec},
    {"poc", &make_poc},
    {"routing", &make_routing},
};
} // namespace

void Experiment::validate(const core::Config&, const boost::mpi::communicator&) const {}

std::vector<std::string> experiment_names() {
    std::vector<std::string> names;
    for (const auto& [name, factory] : registry)
        names.emplace_back(name);
    return names;
}

std::unique_ptr<Experiment> make_experiment(std::string_view name) {
    for (const auto& [known, factory] : registry)
        if (name == known)
            return factory();
    throw core::UsageError(fmt::format("unknown experiment '{}'; known experiments: {}", name,
                                       fmt::join(experiment_names(), ", ")));
}

core::Schema run_schema(const Experiment& experiment) {
    const RunDefaults defaults = experiment.run_defaults();
    constexpr std::int64_t max_int = std::numeric_limits<std::int64_t>::max();
    core::Schema schema;
    schema
        .string("run.experiment", std::string(experiment.name()), experiment_names(),
                "experiment to run")
        .integer("run.seed", 1, 0, max_int, "root seed of every random stream")
        .string("run.out", "", {},
                "output HDF5 file; empty means <experiment>.h5 in the working directory")
        .integer("run.steps", defaults.steps, 0, max_int / 2, "number of steps to run")
        .integer("run.frame_every", defaults.frame_every, 1, max_int,
                 "write a frame of particles and observables every this many steps")
        .integer("run.checkpoint_every", defaults.checkpoint_every, 0, max_int,
                 "write a checkpoint every this many steps, or finished jobs in a grid of jobs "
                 "(0: only when stopped by a signal)")
        .integer("run.block_size", defaults.block_size, 1, 1 << 24,
                 "items per partition block; results are independent of the rank count for a "
                 "fixed block size");
    experiment.declare(schema);
    return schema;
}

} // namespace moesim::experiments
