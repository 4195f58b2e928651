// rates: convergence rates of maximum-likelihood MoE estimators (MODELS.md section 1). For
// each n of a grid and each replicate, a fresh sample is drawn and fitted by EM; Voronoi and
// per-parameter losses are recorded and the rate of each is the log-log slope of its mean
// over replicates, with a bootstrap interval. What is fitted and how comes from a family
// (rates_family.hpp) chosen by rates.gate. The (n, replicate) fits are independent jobs of
// the job driver; every job's data and init depend only on (seed, job id), so /estimates is
// identical for any rank count, schedule, stop and restart.

#include "experiments/experiment.hpp"
#include "experiments/job_driver.hpp"
#include "experiments/rates_family.hpp"

#include "moesim/core/error.hpp"
#include "moesim/fit/rate_estimate.hpp"
#include "moesim/io/table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace moesim::experiments {

namespace {

// One gathered record per job: fit diagnostics, then the family's losses.
constexpr std::size_t record_iterations = 0;
constexpr std::size_t record_objective = 1;
constexpr std::size_t record_converged = 2;
constexpr std::size_t record_restart = 3;
constexpr std::size_t record_truth_objective = 4;
constexpr std::size_t record_losses = 5;

class Rates final : public Experiment {
public:
    std::string_view name() const override { return "rates"; }
    std::string_view description() const override {
        return "convergence rates of MoE maximum-likelihood estimators (EM, Voronoi losses)";
    }
    RunDefaults run_defaults() const override {
        // Finished fits are checkpointed every 10, so a killed run loses few.
        return {.steps = 0, .frame_every = 1, .block_size = 64, .checkpoint_every = 10};
    }

    void declare(core::Schema& schema) const override {
        constexpr double big = 1e12;
        schema
            .string("rates.gate", "softmax", rates::gate_names(),
                    "gating function of the true and the fitted model")
            .integer("rates.dim", 1, 1, 1 << 16, "input dimension d")
            .integer("rates.k_true", 2, 1, 1 << 10, "experts of the true model k*")
            .integer("rates.k_fit", 2, 1, 1 << 10,
                     "experts of the fitted model k (k > k* is over-specified)")
            .real_array("rates.gate_slope", {1.5, 0.0}, -big, big, 1,
                        "true gate slopes beta1, k* rows of d values (row-major)")
            .real_array("rates.gate_bias", {0.3, 0.0}, -big, big, 1, "true gate biases beta0, k*")
            .real_array("rates.expert_slope", {1.0, -1.0}, -big, big, 1,
                        "true expert slopes a, k* rows of d values (row-major)")
            .real_array("rates.expert_bias", {0.5, -0.5}, -big, big, 1, "true expert biases b, k*")
            .real_array("rates.variance", {0.3, 0.2}, 1e-12, big, 1, "true expert variances nu, k*")
            .real("rates.x_scale", 1.0, 1e-12, big, "inputs x = x_scale * z, z ~ N(0, I_d)")
            .integer_array("rates.n", {500, 1000, 2000, 4000}, 2, std::int64_t{1} << 31, 2,
                           "sample sizes (at least two, distinct)")
            .integer("rates.replicates", 8, 1, 1 << 20, "fresh samples fitted per n")
            .real("rates.tolerance", 1e-8, 0.0, 1.0,
                  "fits stop when |delta objective| <= tolerance * max(1, |objective|)")
            .integer("rates.max_iterations", 1000, 1, 1 << 30, "iteration cap per restart")
            .integer("rates.restarts", 1, 1, 1 << 16, "inits per fit; the best objective wins")
            .string("rates.init", "near_truth", fit::em_init_names(),
                    "init: near the truth with noise, or k-means++ on (x, y)")
            .real("rates.init_noise", 0.5, 0.0, big, "near_truth init noise sd = c * n^-alpha: c")
            .real("rates.init_noise_exponent", 0.0, 0.0, 10.0,
                  "near_truth init noise sd = c * n^-alpha: alpha")
            .string("rates.expert_mean", "linear", model::expert_kind_names(),
                    "Gaussian and contaminated gates: experts' means phi(a'x + b); linear is "
                    "fitted in closed form, the others by Levenberg-Marquardt M-steps "
                    "(polynomial: z^expert_degree)")
            .boolean("rates.fit_expert_bias", true,
                     "Gaussian and contaminated gates: false holds every expert bias b at its "
                     "true value (experts without bias, as in arXiv 2505.18455)")
            .integer("rates.expert_mean_steps", 5, 1, 1000,
                     "Levenberg-Marquardt steps per expert per M-step for a nonlinear "
                     "expert_mean (or fit_expert_bias = false)")
            .integer("rates.density_points", 0, 0, 1 << 24,
                     "inputs of the fixed evaluation set of the density loss "
                     "/estimates/density_hellinger, E_x H(p^(.|x), p*(.|x)); sigmoid and "
                     "softmax_regression: p(.|x) = N(f(x), noise variance), the fit's RSS/n "
                     "(0: not computed)")
            .string("rates.schedule", "dynamic", {"dynamic", "static"},
                    "how fits are spread over ranks: taken when a rank is free (dynamic) or "
                    "fixed up front by cost (static); results are identical either way")
            .integer("rates.bootstrap", 1000, 1, 1 << 24, "bootstrap resamples for the intervals")
            .real("rates.ci_level", 0.95, 0.01, 0.999, "confidence level of the intervals");
        for (const auto& family : rates::families())
            family.declare(schema);
    }

    // Every config error surfaces here, before the output file exists.
    void validate(const core::Config& cfg, const boost::mpi::communicator&) const override {
        rates::family_of(cfg.string("rates.gate")).make(cfg); // checks the family's keys
        const auto& n_grid = cfg.integer_array("rates.n");
        if (n_grid.size() * static_cast<std::uint64_t>(cfg.integer("rates.replicates")) >
            std::numeric_limits<std::uint32_t>::max())
            throw core::ConfigError(
                {cfg.origin("rates.replicates")}, "rates.replicates",
                "too many (n, replicate) jobs: at most 2^32-1 (Philox counter)");
        if (std::adjacent_find(n_grid.begin(), n_grid.end(), std::greater_equal<>()) !=
            n_grid.end())
            throw core::ConfigError({cfg.origin("rates.n")}, "rates.n",
                                    "must be strictly increasing");
    }

    std::vector<KeyFigure> run(Context& ctx) override {
        const core::Config& cfg = ctx.config;
        const auto family = rates::family_of(cfg.string("rates.gate")).make(cfg);
        const auto& n_grid = cfg.integer_array("rates.n");
        const auto replicates = static_cast<std::uint64_t>(cfg.integer("rates.replicates"));
        std::vector<double> n_values;
        for (std::int64_t n : n_grid)
            n_values.push_back(static_cast<double>(n));

        const auto loss_names = family->loss_names();
        const auto unidentified = family->unidentified_losses();
        const std::size_t width = record_losses + loss_names.size();

        // Job id = n index * replicates + replicate.
        Jobs jobs;
        jobs.label = "rates";
        jobs.count = n_grid.size() * replicates;
        jobs.record_width = width;
        jobs.dynamic = cfg.string("rates.schedule") == "dynamic";
        jobs.progress_entry = record_losses;
        jobs.progress_name = loss_names.front();
        const std::uint64_t n_jobs = jobs.count;
        for (std::uint64_t job = 0; job < n_jobs; ++job)
            jobs.costs.push_back(family->cost(static_cast<Eigen::Index>(n_grid[job / replicates])));
        jobs.describe = [&](std::uint64_t job) {
            return fmt::format("n = {}, replicate {}", n_grid[job / replicates], job % replicates);
        };
        jobs.run = [&](std::uint64_t job, const core::StopCheck& stop) {
            const auto n = static_cast<Eigen::Index>(n_grid[job / replicates]);
            const auto outcome =
                family->fit_job(ctx.seed, static_cast<std::uint32_t>(job), n, stop);
            if (outcome.losses.size() != loss_names.size())
                throw core::InternalError("rates family returned the wrong number of losses");
            std::vector<double> record{static_cast<double>(outcome.iterations), outcome.objective,
                                       outcome.converged ? 1.0 : 0.0,
                                       static_cast<double>(outcome.restart),
                                       outcome.truth_objective};
            record.insert(record.end(), outcome.losses.begin(), outcome.losses.end());
            return record;
        };
        const std::vector<double> table = run_jobs(ctx, jobs);

        write_fits(ctx, table, width, replicates);
        std::vector<KeyFigure> figures;
        const std::vector<std::int64_t> n_column(n_grid.begin(), n_grid.end());
        for (std::size_t l = 0; l < loss_names.size(); ++l) {
            Eigen::MatrixXd loss(static_cast<Eigen::Index>(replicates),
                                 static_cast<Eigen::Index>(n_grid.size()));
            for (std::uint64_t job = 0; job < n_jobs; ++job)
                loss(static_cast<Eigen::Index>(job % replicates),
                     static_cast<Eigen::Index>(job / replicates)) =
                    table[job * width + record_losses + l];
            const auto rate = fit::estimate_rate(
                n_values, loss,
                {cfg.integer("rates.bootstrap"), cfg.real("rates.ci_level"), ctx.seed, l});
            const std::string group = "/estimates/" + loss_names[l];
            io::write_replicated(ctx.output, group + "/n", {n_column.size()},
                                 std::span<const std::int64_t>(n_column));
            // loss is column-major in Eigen; the file holds loss[R][n] row-major.
            const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows =
                loss;
            io::write_replicated(
                ctx.output, group + "/loss", {replicates, n_grid.size()},
                std::span<const double>(rows.data(), static_cast<std::size_t>(rows.size())));
            io::write_replicated(ctx.output, group + "/slope", {}, std::span(&rate.slope, 1));
            io::write_replicated(ctx.output, group + "/intercept", {},
                                 std::span(&rate.intercept, 1));
            io::write_replicated(ctx.output, group + "/ci_low", {}, std::span(&rate.ci_low, 1));
            io::write_replicated(ctx.output, group + "/ci_high", {}, std::span(&rate.ci_high, 1));
            const std::int64_t identified =
                std::find(unidentified.begin(), unidentified.end(), loss_names[l]) ==
                        unidentified.end()
                    ? 1
                    : 0;
            io::write_replicated(ctx.output, group + "/identified", {},
                                 std::span(&identified, 1));
            figures.push_back(
                {"slope " + loss_names[l],
                 fmt::format("{:.4f} [{:.4f}, {:.4f}]", rate.slope, rate.ci_low, rate.ci_high)});
        }
        ctx.output.flush();
        if (!unidentified.empty())
            figures.push_back({"not identified", fmt::format("{}", fmt::join(unidentified, ", "))});
        std::uint64_t converged = 0, below = 0;
        for (std::uint64_t job = 0; job < n_jobs; ++job) {
            converged += table[job * width + record_converged] == 1.0 ? 1 : 0;
            below += below_truth(table.data() + job * width) ? 1 : 0;
        }
        figures.push_back({"fits converged", fmt::format("{} of {}", converged, n_jobs)});
        figures.push_back(
            {"fits below the truth's objective", fmt::format("{} of {}", below, n_jobs)});
        return figures;
    }

private:
    // The fit ended below the truth's objective on its own sample (by more than rounding):
    // it stopped short of the maximiser, however near the truth it started.
    static bool below_truth(const double* row) {
        const double fitted = row[record_objective], truth = row[record_truth_objective];
        return fitted < truth - 1e-9 * std::max(1.0, std::abs(truth));
    }

    static void write_fits(Context& ctx, const std::vector<double>& table, std::size_t width,
                           std::uint64_t replicates) {
        const std::uint64_t n_jobs = table.size() / width;
        std::vector<std::int64_t> n_index, replicate, iterations, converged, restart, below;
        std::vector<double> objective, truth_objective;
        for (std::uint64_t job = 0; job < n_jobs; ++job) {
            const double* row = table.data() + job * width;
            n_index.push_back(static_cast<std::int64_t>(job / replicates));
            replicate.push_back(static_cast<std::int64_t>(job % replicates));
            iterations.push_back(static_cast<std::int64_t>(row[record_iterations]));
            objective.push_back(row[record_objective]);
            converged.push_back(static_cast<std::int64_t>(row[record_converged]));
            restart.push_back(static_cast<std::int64_t>(row[record_restart]));
            truth_objective.push_back(row[record_truth_objective]);
            below.push_back(below_truth(row) ? 1 : 0);
        }
        const std::vector<std::uint64_t> shape{n_jobs};
        io::write_replicated(ctx.output, "/estimates/fits/n_index", shape,
                             std::span<const std::int64_t>(n_index));
        io::write_replicated(ctx.output, "/estimates/fits/replicate", shape,
                             std::span<const std::int64_t>(replicate));
        io::write_replicated(ctx.output, "/estimates/fits/iterations", shape,
                             std::span<const std::int64_t>(iterations));
        io::write_replicated(ctx.output, "/estimates/fits/objective", shape,
                             std::span<const double>(objective));
        io::write_replicated(ctx.output, "/estimates/fits/converged", shape,
                             std::span<const std::int64_t>(converged));
        io::write_replicated(ctx.output, "/estimates/fits/restart", shape,
                             std::span<const std::int64_t>(restart));
        io::write_replicated(ctx.output, "/estimates/fits/truth_objective", shape,
                             std::span<const double>(truth_objective));
        io::write_replicated(ctx.output, "/estimates/fits/below_truth", shape,
                             std::span<const std::int64_t>(below));
    }
};

} // namespace

std::unique_ptr<Experiment> make_rates() {
    return std::make_unique<Rates>();
}

} // namespace moesim::experiments
