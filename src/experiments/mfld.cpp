// mfld: mean-field Langevin dynamics of a two-layer network on teacher-student data
// (MODELS.md section 3, the dynamics). Writes /particles/theta and the objective, losses and
// second moment under /observables every frame; timers under /timing.

#include "experiments/experiment.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/progress.hpp"
#include "moesim/io/series.hpp"
#include "moesim/model/mean_field_langevin.hpp"
#include "moesim/par/communicator.hpp"

#include <fmt/format.h>

#include <chrono>
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
    RunDefaults run_defaults() const override { return {.steps = 2000, .frame_every = 50, .block_size = 64}; }

    void declare(core::Schema& schema) const override {
        schema.integer("mfld.dim", 16, 1, 1 << 20, "input dimension d")
            .integer("mfld.particles", 1024, 1, std::int64_t(1) << 40, "number of particles N")
            .integer("mfld.batch", 256, 1, 1 << 24, "fresh training samples per step")
            .real("mfld.learning_rate", 0.2, 1e-12, 1e3, "step size eta")
            .real("mfld.entropy", 1e-4, 0.0, 1e6,
                  "entropy weight lambda: Langevin noise sqrt(2 lambda eta) per coordinate")
            .real("mfld.l2", 1e-3, 0.0, 1e6, "weight decay lambda' (stationary variance lambda/lambda' "
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
        const auto steps = static_cast<std::uint64_t>(cfg.integer("run.steps"));
        const auto frame_every = static_cast<std::uint64_t>(cfg.integer("run.frame_every"));
        const auto activation = model::parse_activation(cfg.string("mfld.activation"));

        const model::MeanFieldTeacher teacher(ctx.seed, dim, cfg.integer("mfld.teacher_width"),
                                              cfg.real("mfld.teacher_norm"),
                                              cfg.real("mfld.label_noise"), activation);
        const model::LangevinParams params{.learning_rate = cfg.real("mfld.learning_rate"),
                                           .entropy = cfg.real("mfld.entropy"),
                                           .l2 = cfg.real("mfld.l2"),
                                           .batch = cfg.integer("mfld.batch"),
                                           .data_term = cfg.boolean("mfld.data_term")};
        const par::BlockPartition partition(n_particles,
                                            static_cast<std::uint64_t>(cfg.integer("run.block_size")),
                                            ctx.comm.size());
        model::MeanFieldLangevin dynamics(ctx.comm, partition, dim, activation, teacher, params,
                                          ctx.seed);
        auto& theta_rows = dynamics.network().particles();
        const par::IdRange mine = dynamics.network().local_ids();
        const std::uint64_t first_step = ctx.checkpoint.restart_step().value_or(0);
        if (ctx.checkpoint.restart_step()) {
            const auto saved = ctx.checkpoint.restore("theta", mine.begin, mine.size());
            theta_rows = Eigen::Map<const model::RowMatrix>(saved.data(), theta_rows.rows(), dim);
        } else {
            dynamics.initialize(cfg.real("mfld.init_sd"));
        }

        model::RowMatrix test_inputs;
        Eigen::VectorXd test_labels;
        teacher.sample("test", 0, cfg.integer("mfld.test_samples"), test_inputs, test_labels);

        auto theta = io::Series::distributed(ctx.output, "/particles/theta", n_particles,
                                             {static_cast<std::uint64_t>(dim)});
        auto objective = io::Series::replicated(ctx.output, "/observables/objective", {});
        auto test_loss = io::Series::replicated(ctx.output, "/observables/test_loss", {});
        auto train_loss = io::Series::replicated(ctx.output, "/observables/train_loss", {});
        auto moment = io::Series::replicated(ctx.output, "/observables/second_moment", {});
        // Rank 0's wall-clock seconds per phase since the last frame: step, frame (I/O).
        auto timers = io::Series::replicated(ctx.output, "/timing/phase_seconds", {2});

        using Clock = std::chrono::steady_clock;
        model::RowMatrix batch_inputs;
        Eigen::VectorXd batch_labels;
        double step_seconds = 0, frame_seconds = 0;
        double first_objective = std::nan(""), last_objective = std::nan(""), last_test = 0;
        core::Progress progress("mfld", steps, first_step);

        auto write_frame = [&](std::uint64_t step) {
            const auto start = Clock::now();
            const double m2 = dynamics.second_moment();
            const double test = dynamics.loss(test_inputs, test_labels);
            const double obj = test + 0.5 * params.l2 * m2;
            // Loss on the batch the next step trains on, before the update.
            teacher.sample("train", step * static_cast<std::uint64_t>(params.batch), params.batch,
                           batch_inputs, batch_labels);
            const double train = dynamics.loss(batch_inputs, batch_labels);
            if (!std::isfinite(obj))
                throw core::NumericalError("objective", static_cast<long long>(step), obj);
            const double time = static_cast<double>(step) * params.learning_rate;
            const auto& rows = dynamics.network().particles();
            theta.append(static_cast<std::int64_t>(step), time,
                         std::span<const double>(rows.data(), static_cast<std::size_t>(rows.size())));
            objective.append(static_cast<std::int64_t>(step), time, std::span(&obj, 1));
            test_loss.append(static_cast<std::int64_t>(step), time, std::span(&test, 1));
            train_loss.append(static_cast<std::int64_t>(step), time, std::span(&train, 1));
            moment.append(static_cast<std::int64_t>(step), time, std::span(&m2, 1));
            frame_seconds += std::chrono::duration<double>(Clock::now() - start).count();
            const double phases[2] = {step_seconds, frame_seconds};
            timers.append(static_cast<std::int64_t>(step), time, phases);
            step_seconds = frame_seconds = 0;
            if (std::isnan(first_objective))
                first_objective = obj;
            last_objective = obj;
            last_test = test;
            progress.update(step, "objective", obj);
        };

        for (std::uint64_t step = first_step; step < steps; ++step) {
            if (ctx.checkpoint.due(step)) {
                const io::StateArray state{"theta", n_particles, {static_cast<std::uint64_t>(dim)},
                                           std::span<const double>(theta_rows.data(),
                                                                   static_cast<std::size_t>(theta_rows.size()))};
                ctx.checkpoint.save(step, theta.frames(), std::span(&state, 1));
            }
            if (step % frame_every == 0)
                write_frame(step);
            const auto start = Clock::now();
            const double batch_loss = dynamics.step(step);
            // The batch loss is identical on every rank, so this check is collective.
            if (params.data_term && !std::isfinite(batch_loss))
                throw core::NumericalError("train_loss", static_cast<long long>(step), batch_loss);
            step_seconds += std::chrono::duration<double>(Clock::now() - start).count();
        }
        write_frame(steps);
        progress.finish();

        return {{"frames written", fmt::format("{}", theta.frames())},
                {"objective (first frame)", fmt::format("{:.6g}", first_objective)},
                {"objective (last frame)", fmt::format("{:.6g}", last_objective)},
                {"test loss (last frame)", fmt::format("{:.6g}", last_test)},
                {"steps per second", fmt::format("{:.4g}", static_cast<double>(steps - first_step) / progress.elapsed_seconds())}};
    }
};

} // namespace

std::unique_ptr<Experiment> make_mfld() { return std::make_unique<Mfld>(); }

} // namespace moesim::experiments
