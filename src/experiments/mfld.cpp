// mfld: mean-field Langevin dynamics of a two-layer network on teacher-student data
// (MODELS.md section 3, the dynamics), on the step driver. Writes /particles/theta and the
// objective, losses and second moment under /observables every frame.

#include "experiments/experiment.hpp"
#include "experiments/step_driver.hpp"

#include "moesim/core/error.hpp"
#include "moesim/model/mean_field_langevin.hpp"
#include "moesim/par/communicator.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include <unistd.h>

namespace moesim::experiments {

namespace {

class Mfld final : public Experiment {
public:
    std::string_view name() const override { return "mfld"; }
    std::string_view description() const override {
        return "mean-field Langevin dynamics of a two-layer network (teacher-student)";
    }
    RunDefaults run_defaults() const override {
        return {.steps = 2000, .frame_every = 50, .block_size = 64};
    }

    void declare(core::Schema& schema) const override {
        schema.integer("mfld.dim", 16, 1, 1 << 20, "input dimension d")
            .integer("mfld.particles", 1024, 1, std::int64_t(1) << 40, "number of particles N")
            .integer("mfld.batch", 256, 1, 1 << 24, "fresh training samples per step")
            .real("mfld.learning_rate", 0.2, 1e-12, 1e3, "step size eta")
            .real("mfld.entropy", 1e-4, 0.0, 1e6,
                  "entropy weight lambda: Langevin noise sqrt(2 lambda eta) per coordinate")
            .real("mfld.l2", 1e-3, 0.0, 1e6,
                  "weight decay lambda' (stationary variance lambda/lambda' "
                  "without data)")
            .string("mfld.activation", "tanh", model::activation_names(),
                    "activation of student and teacher, h(theta, x) = sigma(<theta, x>)")
            .real("mfld.init_sd", 0.25, 0.0, 1e6, "initial particles ~ N(0, init_sd^2 I)")
            .integer("mfld.teacher_width", 4, 1, 1 << 20, "teacher particles m")
            .real("mfld.teacher_norm", 2.0, 0.0, 1e6, "norm of each teacher particle")
            .real("mfld.label_noise", 0.0, 0.0, 1e6, "standard deviation of label noise")
            .integer("mfld.test_samples", 2048, 1, 1 << 24, "fixed test set size")
            .boolean("mfld.data_term", true,
                     "false drops the loss: particles follow an Ornstein-Uhlenbeck process");
    }

    void validate(const core::Config& cfg, const boost::mpi::communicator& comm) const override {
        if (cfg.integer("run.steps") > std::numeric_limits<std::uint32_t>::max())
            throw core::ConfigError({cfg.origin("run.steps")}, "run.steps",
                                    "mfld runs at most 2^32-1 steps (the Philox step counter)");
        // The busiest rank holds the most blocks; its arrays: particles, gradient, noise,
        // activation caches for a training batch and for the test set, and the batches.
        const par::BlockPartition partition(
            static_cast<std::uint64_t>(cfg.integer("mfld.particles")),
            static_cast<std::uint64_t>(cfg.integer("run.block_size")), comm.size());
        const double n_local = static_cast<double>(partition.items_of(0).size());
        const double dim = static_cast<double>(cfg.integer("mfld.dim"));
        const double rows = static_cast<double>(cfg.integer("mfld.batch")) +
                            static_cast<double>(cfg.integer("mfld.test_samples"));
        const double bytes = 8.0 * (3 * n_local * dim + 2 * rows * n_local + rows * dim);
        const double available = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                                 static_cast<double>(sysconf(_SC_PAGE_SIZE));
        par::throw_if_any(comm, bytes > 0.8 * available, [&] {
            return core::ConfigError(
                {cfg.origin("mfld.particles")}, "mfld.particles",
                fmt::format("{} particles of dimension {} need about {:.3g} GiB on the busiest "
                            "of {} ranks, more than 80% of this node's {:.3g} GiB; use more "
                            "ranks or fewer particles, or a smaller batch or test set",
                            cfg.integer("mfld.particles"), cfg.integer("mfld.dim"),
                            bytes / (1 << 30), comm.size(), available / (1 << 30)));
        });
    }

    std::vector<KeyFigure> run(Context& ctx) override {
        const core::Config& cfg = ctx.config;
        const auto dim = static_cast<Eigen::Index>(cfg.integer("mfld.dim"));
        const auto n_particles = static_cast<std::uint64_t>(cfg.integer("mfld.particles"));
        const auto activation = model::parse_activation(cfg.string("mfld.activation"));

        const model::MeanFieldTeacher teacher(ctx.seed, dim, cfg.integer("mfld.teacher_width"),
                                              cfg.real("mfld.teacher_norm"),
                                              cfg.real("mfld.label_noise"), activation);
        const model::LangevinParams params{.learning_rate = cfg.real("mfld.learning_rate"),
                                           .entropy = cfg.real("mfld.entropy"),
                                           .l2 = cfg.real("mfld.l2"),
                                           .batch = cfg.integer("mfld.batch"),
                                           .data_term = cfg.boolean("mfld.data_term")};
        const par::BlockPartition partition(
            n_particles, static_cast<std::uint64_t>(cfg.integer("run.block_size")),
            ctx.comm.size());
        model::MeanFieldLangevin dynamics(ctx.comm, partition, dim, activation, teacher, params,
                                          ctx.seed);
        auto& theta = dynamics.network().particles();
        const auto row = std::vector<std::uint64_t>{static_cast<std::uint64_t>(dim)};

        model::RowMatrix test_inputs, batch_inputs;
        Eigen::VectorXd test_labels, batch_labels;
        teacher.sample("test", 0, cfg.integer("mfld.test_samples"), test_inputs, test_labels);
        double first_objective = std::nan(""), last_objective = std::nan(""), last_test = 0;

        Steps steps;
        steps.label = "mfld";
        steps.state.distributed("theta", n_particles, dynamics.network().local_ids().begin, row,
                                {theta.data(), static_cast<std::size_t>(theta.size())});
        steps.initialize = [&] { dynamics.initialize(cfg.real("mfld.init_sd")); };
        steps.step = [&](std::uint64_t step, StepScope& scope) {
            const double batch_loss = dynamics.step(step);
            if (params.data_term) // identical on every rank
                scope.check_finite("train_loss", batch_loss);
        };
        steps.time = [&](std::uint64_t step) {
            return static_cast<double>(step) * params.learning_rate;
        };
        steps.frame = [&](std::uint64_t step, Frame& frame) {
            const double m2 = dynamics.second_moment();
            const double test = dynamics.loss(test_inputs, test_labels);
            const double objective = test + 0.5 * params.l2 * m2;
            // Loss on the batch the next step trains on, before the update.
            teacher.sample("train", step * static_cast<std::uint64_t>(params.batch), params.batch,
                           batch_inputs, batch_labels);
            const double train = dynamics.loss(batch_inputs, batch_labels);
            frame.require_finite("objective", objective);
            frame.particles("theta", n_particles, row,
                            {theta.data(), static_cast<std::size_t>(theta.size())});
            frame.observable("objective", objective);
            frame.observable("test_loss", test);
            frame.observable("train_loss", train);
            frame.observable("second_moment", m2);
            frame.headline("objective", objective);
            if (std::isnan(first_objective))
                first_objective = objective;
            last_objective = objective;
            last_test = test;
        };
        steps.finish = [&]() -> std::vector<KeyFigure> {
            return {{"objective (first frame)", fmt::format("{:.6g}", first_objective)},
                    {"objective (last frame)", fmt::format("{:.6g}", last_objective)},
                    {"test loss (last frame)", fmt::format("{:.6g}", last_test)}};
        };
        return run_steps(ctx, std::move(steps));
    }
};

} // namespace

std::unique_ptr<Experiment> make_mfld() {
    return std::make_unique<Mfld>();
}

} // namespace moesim::experiments
