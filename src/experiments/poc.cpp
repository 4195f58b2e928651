// poc: propagation of chaos of mean-field Langevin dynamics and PoC-based ensembles in the
// setting of arXiv 2502.05784 (MODELS.md 3 and 3.1), on the step driver. One run trains, on
// one fixed data set (circles or multi-index), M_max systems for every N of a grid, a
// reference of N_inf particles standing in for the mean-field limit, and optionally single
// systems of M N particles; all are placed on sub-communicators by par::SystemLayout. Every
// frame records each system's objective terms (free energy with the k-NN entropy) and the
// distances of its test-set predictions to the reference's; the end of the run writes the
// log-log slopes of the squared L2 distance against N per frame time, and the ensembles.
//
// Systems, by index s (the columns of /observables/<term> and /estimates/systems):
//   s = n_index * M_max + m   system m of the n-th N of the grid (seed system_seed(root, s));
//   s = n_N * M_max           the reference (on every rank);
//   after it, for each N and each M of poc.single_system_sizes, one system of M N particles.

#include "experiments/experiment.hpp"
#include "experiments/step_driver.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/fit/rate_estimate.hpp"
#include "moesim/io/table.hpp"
#include "moesim/model/concentric_circles.hpp"
#include "moesim/model/ensemble.hpp"
#include "moesim/model/full_batch_langevin.hpp"
#include "moesim/model/multi_index_regression.hpp"
#include "moesim/par/system_layout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace moesim::experiments {

namespace {

// Per-system values gathered every frame after the test-set predictions.
enum Term : std::size_t { train_loss, second_moment, entropy, test_loss, free_energy, n_terms };
constexpr const char* term_names[n_terms] = {"loss", "second_moment", "entropy", "test_loss",
                                             "free_energy"};

model::LabelledData make_data(const core::Config& cfg, std::uint64_t seed) {
    if (cfg.string("poc.data") == "circles")
        return model::concentric_circles(seed, {.samples = cfg.integer("poc.samples"),
                                                .inner_radius = cfg.real("poc.inner_radius"),
                                                .outer_radius = cfg.real("poc.outer_radius"),
                                                .noise_sd = cfg.real("poc.noise_sd")});
    return model::multi_index_regression(
        seed, {.samples = cfg.integer("poc.samples"),
               .dim = cfg.integer("poc.dim"),
               .indices = cfg.integer("poc.indices"),
               .radius = cfg.real("poc.radius"),
               .radius_law = model::parse_radius_law(cfg.string("poc.radius_law")),
               .label_scale = cfg.real("poc.label_scale"),
               .label_noise_sd = cfg.real("poc.label_noise_sd")});
}

model::PredictionLoss loss_of(const core::Config& cfg) {
    const std::string& name = cfg.string("poc.loss");
    if (name == "auto")
        return cfg.string("poc.data") == "circles" ? model::PredictionLoss::logistic
                                                   : model::PredictionLoss::squared;
    return model::parse_prediction_loss(name);
}

// Frames the step driver writes for `n_steps` steps: one every `frame_every` below n_steps,
// and one after the last step.
std::uint64_t frame_count(std::uint64_t n_steps, std::uint64_t frame_every) {
    return (n_steps + frame_every - 1) / frame_every + 1;
}

double mean_of(std::span<const double> values) {
    double sum = 0;
    for (double v : values)
        sum += v;
    return sum / static_cast<double>(values.size());
}

double sd_of(std::span<const double> values) {
    if (values.size() < 2)
        return 0.0;
    const double mean = mean_of(values);
    double sum = 0;
    for (double v : values)
        sum += (v - mean) * (v - mean);
    return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

class Poc final : public Experiment {
public:
    std::string_view name() const override { return "poc"; }
    std::string_view description() const override {
        return "propagation of chaos: N sweep against a reference, and PoC-based ensembles";
    }
    RunDefaults run_defaults() const override {
        return {.steps = 200, .frame_every = 20, .block_size = 32};
    }

    void declare(core::Schema& schema) const override {
        auto losses = model::prediction_loss_names();
        losses.insert(losses.begin(), "auto");
        constexpr std::int64_t max_particles = std::int64_t{1} << 32;
        schema
            .string("poc.data", "circles", {"circles", "multi_index"},
                    "data set: two concentric circles (classification) or the multi-index "
                    "regression")
            .integer("poc.samples", 200, 2, 1 << 24,
                     "n, training plus test samples (the paper: 200 circles, 500 multi-index)")
            .real("poc.train_fraction", 0.8, 1e-6, 1.0 - 1e-6,
                  "share of the samples used for training (the rest is the test set)")
            .real("poc.inner_radius", 1.0, 0.0, 1e6, "circles: radius of the class -1 circle")
            .real("poc.outer_radius", 2.0, 0.0, 1e6, "circles: radius of the class +1 circle")
            .real("poc.noise_sd", 0.1, 0.0, 1e6,
                  "circles: sd of the Gaussian noise on each coordinate (the paper's 'noise "
                  "0.1' read as an sd; for a variance v write sqrt(v))")
            .integer("poc.dim", 100, 1, 1 << 20, "multi-index: input dimension d")
            .integer("poc.indices", 100, 1, 1 << 20,
                     "multi-index: k <= d, y = (Rbar/k) sum_{j<k} tanh(z_j)")
            .real("poc.radius", 5.0, 0.0, 1e6, "multi-index: inputs lie in the ball of radius r")
            .string("poc.radius_law", "uniform_ball", model::radius_law_names(),
                    "multi-index: law of |z| (uniform_ball: z uniform in the ball, the main "
                    "text; uniform_radius: |z| uniform in [0, r], one reading of the appendix)")
            .real("poc.label_scale", 1.0, 0.0, 1e6,
                  "multi-index: Rbar (the main text: 1; the appendix: 100)")
            .real("poc.label_noise_sd", 0.0, 0.0, 1e6, "multi-index: sd of noise added to y")
            .string("poc.loss", "auto", losses,
                    "data term: auto = logistic for circles, squared for multi-index")
            .integer_array("poc.particles", {50, 100, 200, 400}, 1, max_particles, 2,
                           "the N grid, strictly increasing (at least two N for a slope)")
            .integer("poc.systems", 10, 1, 1 << 16,
                     "M_max: independent systems trained per N (distinct seeds)")
            .integer("poc.reference_particles", 4000, 2, max_particles,
                     "N_inf: particles of the reference system standing in for the mean-field "
                     "limit (the paper: 10000)")
            .integer_array("poc.single_system_sizes", {2, 5, 10}, 1, 1 << 16, 0,
                           "M values for which one system of M N particles is also trained, "
                           "to compare with the merge of M systems of N (empty: none)")
            .integer("poc.ensemble_draws", 20, 1, 1 << 20,
                     "R: random draws of M systems out of M_max merged per (M, N) (the paper: "
                     "50)")
            .real("poc.learning_rate", 0.1, 1e-12, 1e3, "step size eta (one step = one epoch)")
            .real("poc.l2", 0.1, 0.0, 1e6, "lambda' of lambda' E|theta|^2 (no 1/2)")
            .real("poc.entropy", 0.01, 0.0, 1e6,
                  "lambda: weight of Ent; Langevin noise sqrt(2 lambda eta) per coordinate")
            .real("poc.scale", 10.0, 0.0, 1e6, "R of the neuron R tanh(theta3) tanh(...)")
            .real("poc.init_sd", 1.0, 0.0, 1e6, "initial particles ~ N(0, init_sd^2 I)")
            .integer("poc.knn_k", 1, 1, 1 << 10,
                     "neighbour order k of the Kozachenko-Leonenko entropy estimate")
            .integer("poc.entropy_every", 1, 1, 1 << 20,
                     "the k-NN entropy (and so the free energy) every this many frames and at "
                     "the last; NaN in the frames between (it costs ~N^2 d per system)")
            .boolean("poc.single_system_entropy", true,
                     "the k-NN entropy (and free energy) of the single systems of M N particles "
                     "too; false: NaN for them (in the paper's configs they are most of its cost)")
            .integer("poc.frame_systems", 1, 0, 1 << 16,
                     "particle frames are written for systems 0 .. this-1 of each N (and the "
                     "reference)")
            .integer("poc.particle_frame_every", 1, 1, 1 << 20,
                     "particle frames (/particles) every this many frames and at the last; the "
                     "reference's N_inf x (d + 2) values per frame are most of the output")
            .integer("poc.bootstrap_resamples", 1000, 10, 1 << 20,
                     "bootstrap resamples of the systems for the slopes' intervals")
            .real("poc.ci_level", 0.95, 0.5, 0.999, "confidence level of the slopes' intervals");
    }

    void validate(const core::Config& cfg, const boost::mpi::communicator&) const override {
        auto fail = [&](const char* key, const std::string& problem) {
            throw core::ConfigError({cfg.origin(key)}, key, problem);
        };
        if (cfg.integer("run.steps") > std::numeric_limits<std::uint32_t>::max())
            fail("run.steps", "poc runs at most 2^32-1 steps (the Philox step counter)");
        const auto& n_grid = cfg.integer_array("poc.particles");
        for (std::size_t i = 1; i < n_grid.size(); ++i)
            if (n_grid[i] <= n_grid[i - 1])
                fail("poc.particles", "must be strictly increasing");
        const std::int64_t m_max = cfg.integer("poc.systems");
        auto singles = cfg.integer_array("poc.single_system_sizes");
        for (std::int64_t m : singles)
            if (m > m_max)
                fail("poc.single_system_sizes",
                     fmt::format("{} is more than poc.systems = {}", m, m_max));
        std::sort(singles.begin(), singles.end());
        if (std::adjacent_find(singles.begin(), singles.end()) != singles.end())
            fail("poc.single_system_sizes", "values must be distinct");
        if (cfg.integer("poc.frame_systems") > m_max)
            fail("poc.frame_systems", fmt::format("at most poc.systems = {}", m_max));
        if (cfg.integer("poc.knn_k") >= n_grid.front())
            fail("poc.knn_k", fmt::format("must be less than the smallest N ({})", n_grid.front()));
        if (cfg.integer("poc.knn_k") >= cfg.integer("poc.reference_particles"))
            fail("poc.knn_k", "must be less than poc.reference_particles");
        if (cfg.string("poc.data") == "multi_index") {
            if (cfg.integer("poc.indices") > cfg.integer("poc.dim"))
                fail("poc.indices", "must be at most poc.dim");
            if (cfg.string("poc.loss") == "logistic")
                fail("poc.loss", "the multi-index labels are real: use squared or auto");
        }
        const auto n = static_cast<double>(cfg.integer("poc.samples"));
        const double n_train = std::round(cfg.real("poc.train_fraction") * n);
        if (n_train < 1 || n_train >= n)
            fail("poc.train_fraction", "leaves no training or no test sample");
    }

    std::vector<KeyFigure> run(Context& ctx) override {
        const core::Config& cfg = ctx.config;
        const auto& n_grid = cfg.integer_array("poc.particles");
        const std::size_t n_n = n_grid.size();
        const auto m_max = static_cast<std::size_t>(cfg.integer("poc.systems"));
        const auto& single_sizes = cfg.integer_array("poc.single_system_sizes");
        const auto n_draws = static_cast<std::size_t>(cfg.integer("poc.ensemble_draws"));
        const auto n_steps = static_cast<std::uint64_t>(cfg.integer("run.steps"));
        const auto frame_every = static_cast<std::uint64_t>(cfg.integer("run.frame_every"));
        const std::uint64_t n_frames = frame_count(n_steps, frame_every);
        const auto frame_systems = static_cast<std::size_t>(cfg.integer("poc.frame_systems"));
        const auto particle_frame_every =
            static_cast<std::uint64_t>(cfg.integer("poc.particle_frame_every"));

        const model::TrainTestSplit data =
            model::split_train_test(make_data(cfg, ctx.seed), cfg.real("poc.train_fraction"));
        const auto n_test = static_cast<std::size_t>(data.test.size());
        const model::FullBatchLangevinParams params{.learning_rate = cfg.real("poc.learning_rate"),
                                                    .l2 = cfg.real("poc.l2"),
                                                    .entropy = cfg.real("poc.entropy"),
                                                    .scale = cfg.real("poc.scale"),
                                                    .loss = loss_of(cfg)};
        const model::KnnEntropyOptions knn{.k = static_cast<int>(cfg.integer("poc.knn_k"))};
        const auto entropy_every = static_cast<std::uint64_t>(cfg.integer("poc.entropy_every"));
        const bool single_system_entropy = cfg.boolean("poc.single_system_entropy");

        // The systems (see the file comment for the order).
        std::vector<par::SystemSpec> specs;
        std::vector<double> kind, group_n, group_m; // for /estimates/systems
        for (std::size_t i = 0; i < n_n; ++i)
            for (std::size_t m = 0; m < m_max; ++m) {
                specs.push_back({.particles = static_cast<std::uint64_t>(n_grid[i])});
                kind.push_back(0);
                group_n.push_back(static_cast<double>(n_grid[i]));
                group_m.push_back(static_cast<double>(m));
            }
        const std::size_t reference = specs.size();
        specs.push_back(
            {.particles = static_cast<std::uint64_t>(cfg.integer("poc.reference_particles")),
             .all_ranks = true});
        kind.push_back(1);
        group_n.push_back(static_cast<double>(specs.back().particles));
        group_m.push_back(0);
        const std::size_t first_single = specs.size();
        for (std::size_t i = 0; i < n_n; ++i)
            for (std::int64_t m : single_sizes) {
                specs.push_back({.particles = static_cast<std::uint64_t>(m * n_grid[i])});
                kind.push_back(2);
                group_n.push_back(static_cast<double>(n_grid[i]));
                group_m.push_back(static_cast<double>(m));
            }
        const std::size_t n_systems = specs.size();
        const auto block_size = static_cast<std::uint64_t>(cfg.integer("run.block_size"));
        const par::SystemLayout layout(ctx.comm, specs, block_size);

        std::vector<std::unique_ptr<model::FullBatchLangevin>> systems(n_systems);
        for (std::size_t s : layout.local_systems())
            systems[s] = std::make_unique<model::FullBatchLangevin>(
                layout.comm_of(s), layout.plan().partition_of(s), data.train, params,
                model::system_seed(ctx.seed, s));
        const auto particle_dim = static_cast<std::uint64_t>(data.train.dim() + 2);
        const std::vector<std::uint64_t> row{particle_dim};
        auto rows_of = [&](std::size_t s) -> std::span<double> {
            if (!systems[s])
                return {};
            auto& theta = systems[s]->network().particles();
            return {theta.data(), static_cast<std::size_t>(theta.size())};
        };
        auto first_row_of = [&](std::size_t s) -> std::uint64_t {
            return systems[s] ? systems[s]->network().local_ids().begin : 0;
        };

        // Per-frame history of the sweep's distances and gaps, [T][M_max][n_N]: state, so a
        // restarted run's /estimates cover the frames written before its checkpoint.
        const std::size_t per_frame = m_max * n_n;
        std::vector<double> l2_history(n_frames * per_frame), sup_history(l2_history.size()),
            gap_history(l2_history.size());
        const std::size_t width = n_test + n_terms;
        std::vector<double> last_rows; // every system's row at the last frame
        double first_free_energy = std::nan(""), last_free_energy = std::nan("");

        Steps steps;
        steps.label = "poc";
        steps.phases = {"systems", "reference"};
        for (std::size_t s = 0; s < n_systems; ++s)
            steps.state.distributed(fmt::format("theta_{}", s), specs[s].particles, first_row_of(s),
                                    row, rows_of(s));
        steps.state.replicated("l2_history", {n_frames, m_max, n_n}, std::span(l2_history));
        steps.state.replicated("sup_history", {n_frames, m_max, n_n}, std::span(sup_history));
        steps.state.replicated("gap_history", {n_frames, m_max, n_n}, std::span(gap_history));

        steps.initialize = [&] {
            for (std::size_t s : layout.local_systems())
                systems[s]->initialize(cfg.real("poc.init_sd"));
        };
        steps.step = [&](std::uint64_t step, StepScope& scope) {
            // Ascending system order on every rank: systems of one group take turns on the
            // group's communicator, and every rank meets the reference's collectives.
            for (std::size_t s : layout.local_systems()) {
                const double loss = scope.timers().time(s == reference ? "reference" : "systems",
                                                        [&] { return systems[s]->step(step); });
                scope.check_finite("train_loss", loss);
            }
        };
        steps.time = [&](std::uint64_t step) {
            return static_cast<double>(step) * params.learning_rate;
        };
        steps.frame = [&](std::uint64_t step, Frame& frame) {
            std::vector<double> led;
            const bool with_entropy = step >= n_steps || (step / frame_every) % entropy_every == 0;
            for (std::size_t s : layout.local_systems()) {
                const Eigen::VectorXd f = systems[s]->predict(data.test);
                // The training loss by the forward pass the next step reuses.
                model::ObjectiveTerms terms;
                terms.loss = systems[s]->train_loss();
                terms.second_moment = systems[s]->second_moment();
                terms.entropy = with_entropy && (single_system_entropy || s < first_single)
                                    ? systems[s]->entropy(knn)
                                    : std::numeric_limits<double>::quiet_NaN();
                if (!layout.leads(s))
                    continue;
                led.insert(led.end(), f.data(), f.data() + f.size());
                double values[n_terms];
                values[train_loss] = terms.loss;
                values[second_moment] = terms.second_moment;
                values[entropy] = terms.entropy;
                values[test_loss] = model::mean_loss(params.loss, f, data.test.labels);
                values[free_energy] = terms.free_energy(params);
                led.insert(led.end(), values, values + n_terms);
            }
            last_rows = layout.gather_by_system(led, width);
            auto prediction = [&](std::size_t s) {
                return Eigen::Map<const Eigen::VectorXd>(last_rows.data() + s * width,
                                                         static_cast<Eigen::Index>(n_test));
            };
            auto term = [&](std::size_t s, Term t) { return last_rows[s * width + n_test + t]; };

            // The objective whose gap is reported leaves out the entropy: the k-NN estimate's
            // bias depends on N (model/knn_entropy.hpp) and would dominate a difference.
            auto objective = [&](std::size_t s) {
                return term(s, train_loss) + params.l2 * term(s, second_moment);
            };
            const Eigen::VectorXd f_ref = prediction(reference);
            const std::uint64_t k = step < n_steps ? step / frame_every : n_frames - 1;
            for (std::size_t i = 0; i < n_n; ++i)
                for (std::size_t m = 0; m < m_max; ++m) {
                    const std::size_t s = i * m_max + m;
                    const Eigen::VectorXd f = prediction(s);
                    const std::size_t at = k * per_frame + m * n_n + i;
                    l2_history[at] = model::l2_distance(f, f_ref);
                    sup_history[at] = model::sup_distance(f, f_ref);
                    gap_history[at] = objective(s) - objective(reference);
                }
            for (std::size_t s = 0; s < n_systems; ++s) {
                const bool has_entropy =
                    with_entropy && (single_system_entropy || s < first_single);
                frame.require_finite(has_entropy ? "free_energy" : "loss + l2 second_moment",
                                     has_entropy ? term(s, free_energy) : objective(s));
            }
            for (std::size_t t = 0; t < n_terms; ++t) {
                std::vector<double> column(n_systems);
                for (std::size_t s = 0; s < n_systems; ++s)
                    column[s] = term(s, static_cast<Term>(t));
                frame.observable(term_names[t], column, {n_systems});
            }
            const std::span<const double> now_l2(l2_history.data() + k * per_frame, per_frame);
            frame.observable("distance_l2", now_l2, {m_max, n_n});
            frame.observable("distance_sup", {sup_history.data() + k * per_frame, per_frame},
                             {m_max, n_n});
            frame.observable("gap", {gap_history.data() + k * per_frame, per_frame}, {m_max, n_n});
            if (step >= n_steps || (step / frame_every) % particle_frame_every == 0) {
                frame.particles("reference", specs[reference].particles, row, rows_of(reference));
                for (std::size_t i = 0; i < n_n; ++i)
                    for (std::size_t m = 0; m < frame_systems; ++m) {
                        const std::size_t s = i * m_max + m;
                        frame.particles(fmt::format("N{}_system{}", n_grid[i], m),
                                        specs[s].particles, row, rows_of(s));
                    }
            }
            if (with_entropy) { // frames without the entropy show the last value
                if (std::isnan(first_free_energy))
                    first_free_energy = term(reference, free_energy);
                last_free_energy = term(reference, free_energy);
            }
            frame.headline("reference free energy", last_free_energy);
        };
        steps.finish = [&]() -> std::vector<KeyFigure> {
            std::vector<double> n_values(n_grid.begin(), n_grid.end()), times(n_frames);
            for (std::uint64_t k = 0; k < n_frames; ++k)
                times[k] =
                    static_cast<double>(std::min(k * frame_every, n_steps)) * params.learning_rate;

            // /estimates/poc: [S][N][T] from the [T][S][N] history, and the rates per time.
            const std::string poc = "/estimates/poc";
            auto by_system_n_time = [&](const std::vector<double>& history) {
                std::vector<double> out(history.size());
                for (std::uint64_t k = 0; k < n_frames; ++k)
                    for (std::size_t m = 0; m < m_max; ++m)
                        for (std::size_t i = 0; i < n_n; ++i)
                            out[(m * n_n + i) * n_frames + k] =
                                history[k * per_frame + m * n_n + i];
                return out;
            };
            const std::vector<std::uint64_t> snt{m_max, n_n, n_frames};
            io::write_replicated(ctx.output, poc + "/N", {n_n}, std::span<const double>(n_values));
            io::write_replicated(ctx.output, poc + "/time", {n_frames},
                                 std::span<const double>(times));
            io::write_replicated(ctx.output, poc + "/distance", snt,
                                 std::span<const double>(by_system_n_time(l2_history)));
            io::write_replicated(ctx.output, poc + "/sup_distance", snt,
                                 std::span<const double>(by_system_n_time(sup_history)));
            io::write_replicated(ctx.output, poc + "/gap", snt,
                                 std::span<const double>(by_system_n_time(gap_history)));
            const fit::BootstrapSettings bootstrap{.resamples =
                                                       cfg.integer("poc.bootstrap_resamples"),
                                                   .level = cfg.real("poc.ci_level"),
                                                   .seed = ctx.seed};
            std::vector<double> slope(n_frames), low(n_frames), high(n_frames);
            std::vector<double> gap_slope(n_frames), gap_low(n_frames), gap_high(n_frames);
            std::vector<double> mean_l2(n_n * n_frames), sd_l2(mean_l2.size()),
                mean_gap(mean_l2.size()), sd_gap(mean_l2.size());
            for (std::uint64_t k = 0; k < n_frames; ++k) {
                Eigen::MatrixXd squared(m_max, n_n), abs_gap(m_max, n_n);
                for (std::size_t m = 0; m < m_max; ++m)
                    for (std::size_t i = 0; i < n_n; ++i) {
                        const std::size_t at = k * per_frame + m * n_n + i;
                        squared(m, i) = l2_history[at] * l2_history[at];
                        abs_gap(m, i) = std::abs(gap_history[at]);
                    }
                auto rate = fit::estimate_rate(n_values, squared,
                                               {.resamples = bootstrap.resamples,
                                                .level = bootstrap.level,
                                                .seed = bootstrap.seed,
                                                .stream_item = 2 * k});
                slope[k] = rate.slope, low[k] = rate.ci_low, high[k] = rate.ci_high;
                rate = fit::estimate_rate(n_values, abs_gap,
                                          {.resamples = bootstrap.resamples,
                                           .level = bootstrap.level,
                                           .seed = bootstrap.seed,
                                           .stream_item = 2 * k + 1});
                gap_slope[k] = rate.slope, gap_low[k] = rate.ci_low, gap_high[k] = rate.ci_high;
                for (std::size_t i = 0; i < n_n; ++i) {
                    std::vector<double> l2(m_max), gap(m_max);
                    for (std::size_t m = 0; m < m_max; ++m) {
                        l2[m] = l2_history[k * per_frame + m * n_n + i];
                        gap[m] = gap_history[k * per_frame + m * n_n + i];
                    }
                    mean_l2[i * n_frames + k] = mean_of(l2), sd_l2[i * n_frames + k] = sd_of(l2);
                    mean_gap[i * n_frames + k] = mean_of(gap);
                    sd_gap[i * n_frames + k] = sd_of(gap);
                }
            }
            auto write_vector = [&](const std::string& path, const std::vector<double>& v,
                                    std::vector<std::uint64_t> shape) {
                io::write_replicated(ctx.output, path, std::move(shape),
                                     std::span<const double>(v));
            };
            write_vector(poc + "/slope", slope, {n_frames});
            write_vector(poc + "/ci_low", low, {n_frames});
            write_vector(poc + "/ci_high", high, {n_frames});
            write_vector(poc + "/gap_slope", gap_slope, {n_frames});
            write_vector(poc + "/gap_ci_low", gap_low, {n_frames});
            write_vector(poc + "/gap_ci_high", gap_high, {n_frames});
            write_vector(poc + "/distance_mean", mean_l2, {n_n, n_frames});
            write_vector(poc + "/distance_sd", sd_l2, {n_n, n_frames});
            write_vector(poc + "/gap_mean", mean_gap, {n_n, n_frames});
            write_vector(poc + "/gap_sd", sd_gap, {n_n, n_frames});

            // /estimates/ensemble: merges of M of the M_max final systems per N, R draws each,
            // and the single systems of M N particles.
            auto final_prediction = [&](std::size_t s) {
                return Eigen::Map<const Eigen::VectorXd>(last_rows.data() + s * width,
                                                         static_cast<Eigen::Index>(n_test));
            };
            const Eigen::VectorXd f_ref = final_prediction(reference);
            const core::Philox draws(ctx.seed, "poc.ensemble");
            std::vector<double> sup(n_draws * m_max * n_n), l2(sup.size()), test_loss(sup.size());
            model::RowMatrix predictions(static_cast<Eigen::Index>(m_max),
                                         static_cast<Eigen::Index>(n_test));
            for (std::size_t i = 0; i < n_n; ++i) {
                for (std::size_t m = 0; m < m_max; ++m)
                    predictions.row(static_cast<Eigen::Index>(m)) =
                        final_prediction(i * m_max + m).transpose();
                for (std::size_t size = 1; size <= m_max; ++size)
                    for (std::size_t r = 0; r < n_draws; ++r) {
                        const auto members = model::draw_members(
                            draws, (i * m_max + size - 1) * n_draws + r, size, m_max);
                        const Eigen::VectorXd merged =
                            model::merge_predictions(predictions, members);
                        const std::size_t at = (r * m_max + size - 1) * n_n + i;
                        sup[at] = model::sup_distance(merged, f_ref);
                        l2[at] = model::l2_distance(merged, f_ref);
                        test_loss[at] = model::mean_loss(params.loss, merged, data.test.labels);
                    }
            }
            const double nan = std::numeric_limits<double>::quiet_NaN();
            std::vector<double> single_sup(n_n * m_max, nan), single_l2(single_sup.size(), nan);
            std::vector<double> m_values(m_max);
            for (std::size_t m = 0; m < m_max; ++m)
                m_values[m] = static_cast<double>(m + 1);
            for (std::size_t i = 0; i < n_n; ++i)
                for (std::size_t j = 0; j < single_sizes.size(); ++j) {
                    const std::size_t s = first_single + i * single_sizes.size() + j;
                    const auto at = i * m_max + static_cast<std::size_t>(single_sizes[j]) - 1;
                    single_sup[at] = model::sup_distance(final_prediction(s), f_ref);
                    single_l2[at] = model::l2_distance(final_prediction(s), f_ref);
                }
            const std::string ens = "/estimates/ensemble";
            write_vector(ens + "/M", m_values, {m_max});
            write_vector(ens + "/N", n_values, {n_n});
            write_vector(ens + "/distance", sup, {n_draws, m_max, n_n});
            write_vector(ens + "/distance_l2", l2, {n_draws, m_max, n_n});
            write_vector(ens + "/test_loss", test_loss, {n_draws, m_max, n_n});
            write_vector(ens + "/single_system", single_sup, {n_n, m_max});
            write_vector(ens + "/single_system_l2", single_l2, {n_n, m_max});

            // /estimates/systems: what each column of /observables/<term> is.
            write_vector("/estimates/systems/kind", kind, {n_systems});
            write_vector("/estimates/systems/N", group_n, {n_systems});
            write_vector("/estimates/systems/index", group_m, {n_systems});
            std::vector<double> particles(n_systems);
            for (std::size_t s = 0; s < n_systems; ++s)
                particles[s] = static_cast<double>(specs[s].particles);
            write_vector("/estimates/systems/particles", particles, {n_systems});
            // The data set, so the output can be checked and plotted on its own.
            auto write_data = [&](const std::string& name, const model::LabelledData& set) {
                const auto rows = static_cast<std::uint64_t>(set.size());
                const auto cols = static_cast<std::uint64_t>(set.dim());
                io::write_replicated(ctx.output, "/estimates/data/" + name + "_inputs",
                                     {rows, cols},
                                     {set.inputs.data(), static_cast<std::size_t>(rows * cols)});
                io::write_replicated(ctx.output, "/estimates/data/" + name + "_labels", {rows},
                                     {set.labels.data(), static_cast<std::size_t>(rows)});
            };
            write_data("train", data.train);
            write_data("test", data.test);

            auto mean_sup = [&](std::size_t size, std::size_t i) {
                double sum = 0;
                for (std::size_t r = 0; r < n_draws; ++r)
                    sum += sup[(r * m_max + size - 1) * n_n + i];
                return sum / static_cast<double>(n_draws);
            };
            const std::uint64_t last = n_frames - 1;
            return {
                {"reference free energy (first frame)", fmt::format("{:.6g}", first_free_energy)},
                {"reference free energy (last frame)", fmt::format("{:.6g}", last_free_energy)},
                {"slope of squared L2 distance vs N (last frame)",
                 fmt::format("{:.3f} [{:.3f}, {:.3f}]", slope[last], low[last], high[last])},
                {"slope of |objective gap| vs N (last frame)",
                 fmt::format("{:.3f} [{:.3f}, {:.3f}]", gap_slope[last], gap_low[last],
                             gap_high[last])},
                {fmt::format("sup distance, merge of M = 1 / {} at N = {}", m_max, n_grid.back()),
                 fmt::format("{:.4g} / {:.4g}", mean_sup(1, n_n - 1), mean_sup(m_max, n_n - 1))}};
        };
        return run_steps(ctx, std::move(steps));
    }
};

} // namespace

std::unique_ptr<Experiment> make_poc() {
    return std::make_unique<Poc>();
}

} // namespace moesim::experiments
