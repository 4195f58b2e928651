// misspec: mean estimation in an isotropic Gaussian mixture fitted with the wrong variance
// (MODELS.md section 4, arXiv 2605.02448). Over a grid of rho = tau/sigma and SNR, R fresh
// samples per SNR are fitted by EM with the covariance held at tau^2 I and by hard assignment
// (Lloyd, the tau -> 0 limit); each fit is scored after label matching, and the population
// (n -> infinity) fixed point of each map is computed by quadrature. Every fit is a job of the
// job driver: its data depend only on (seed, SNR index, replicate), so every rho sees the same
// samples, and /estimates is identical for any rank count, schedule, stop and restart.

#include "experiments/experiment.hpp"
#include "experiments/job_driver.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/fit/isotropic_mixture_em.hpp"
#include "moesim/fit/kmeans.hpp"
#include "moesim/fit/label_matching.hpp"
#include "moesim/fit/misspec_theory.hpp"
#include "moesim/fit/population_em.hpp"
#include "moesim/io/table.hpp"
#include "moesim/model/gaussian_mixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moesim::experiments {

namespace {

// One record per job: the fit's scores. Population jobs leave accuracy NaN.
enum Entry : std::size_t { mse, centre_distance, accuracy, along, iterations, converged, width };
constexpr const char* entry_names[] = {"mse",   "centre_distance", "accuracy",
                                       "along", "iterations",      "converged"};
// A mean is "collapsed" when its distance from the mixture centre is below this fraction of
// the true means' distance from it (the threshold measured on the grid).
constexpr double collapse_fraction = 0.1;

// lo, lo + step, ..., hi.
std::vector<double> rho_grid(double lo, double hi, double step) {
    std::vector<double> grid;
    for (int i = 0; lo + i * step <= hi + 1e-9; ++i)
        grid.push_back(lo + i * step);
    return grid;
}

enum class Method { em, hard };
const char* method_name(Method method) {
    return method == Method::em ? "em" : "hard";
}

// What the config describes, resolved once.
struct Grid {
    Eigen::Index dim = 1, components = 2;
    model::MixtureGeometry geometry = model::MixtureGeometry::symmetric;
    Eigen::MatrixXd custom_means;
    double sigma = 1.0;
    Eigen::VectorXd weights;
    Eigen::Index samples = 0;
    std::uint64_t replicates = 0;
    std::vector<double> rho, snr;
    std::vector<Method> methods;
    bool near_truth = true;
    std::int64_t restarts = 1;
    bool estimate_weights = false;
    double tolerance = 0.0;
    std::int64_t max_iterations = 0;

    model::GaussianMixture mixture_at(std::size_t snr_index) const {
        return {
            model::mixture_means(geometry, components, dim, snr[snr_index], sigma, custom_means),
            weights, sigma};
    }
    bool runs(Method method) const {
        return std::find(methods.begin(), methods.end(), method) != methods.end();
    }
};

core::ConfigError config_error(const core::Config& cfg, const char* key, std::string problem) {
    return core::ConfigError({cfg.origin(key)}, key, std::move(problem));
}

Grid read_grid(const core::Config& cfg) {
    Grid grid;
    grid.dim = cfg.integer("misspec.dim");
    grid.components = cfg.integer("misspec.components");
    grid.geometry = model::parse_mixture_geometry(cfg.string("misspec.geometry"));
    grid.sigma = cfg.real("misspec.sigma");
    grid.samples = cfg.integer("misspec.samples");
    grid.replicates = static_cast<std::uint64_t>(cfg.integer("misspec.replicates"));
    grid.rho = cfg.real_array("misspec.rho");
    grid.snr = cfg.real_array("misspec.snr");
    for (const auto& name : cfg.string_array("misspec.methods"))
        grid.methods.push_back(name == "em" ? Method::em : Method::hard);
    grid.near_truth = cfg.string("misspec.init") == "near_truth";
    grid.restarts = cfg.integer("misspec.restarts");
    grid.estimate_weights = cfg.boolean("misspec.estimate_weights");
    grid.tolerance = cfg.real("misspec.tolerance");
    grid.max_iterations = cfg.integer("misspec.max_iterations");

    const Eigen::Index k = grid.components, d = grid.dim;
    const auto& means = cfg.real_array("misspec.means");
    if (grid.geometry == model::MixtureGeometry::custom) {
        if (static_cast<Eigen::Index>(means.size()) != k * d)
            throw config_error(cfg, "misspec.means",
                               fmt::format("has {} values; geometry \"custom\" needs "
                                           "misspec.components x misspec.dim = {} x {} = {}",
                                           means.size(), k, d, k * d));
        grid.custom_means = Eigen::Map<
            const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            means.data(), k, d);
    } else if (!means.empty()) {
        throw config_error(cfg, "misspec.means",
                           "is only read with geometry = \"custom\"; remove it or set "
                           "misspec.geometry = \"custom\"");
    }
    const auto& weights = cfg.real_array("misspec.weights");
    if (weights.empty()) {
        grid.weights = model::uniform_weights(k);
    } else {
        if (static_cast<Eigen::Index>(weights.size()) != k)
            throw config_error(
                cfg, "misspec.weights",
                fmt::format("has {} values, misspec.components = {}", weights.size(), k));
        const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
        if (std::abs(total - 1.0) > 1e-12)
            throw config_error(cfg, "misspec.weights", fmt::format("sum to {}, not 1", total));
        grid.weights = Eigen::Map<const Eigen::VectorXd>(weights.data(), k);
    }
    for (double snr : grid.snr)
        if (const auto problem =
                model::mixture_means_problem(grid.geometry, k, d, snr, grid.custom_means))
            throw config_error(
                cfg, "misspec.snr",
                fmt::format("SNR {} cannot be made by geometry \"{}\" with {} components in "
                            "dimension {}: {}",
                            snr, cfg.string("misspec.geometry"), k, d, *problem));
    if (grid.samples < 2 * k)
        throw config_error(cfg, "misspec.samples",
                           fmt::format("is {}, fewer than 2 per component", grid.samples));
    return grid;
}

// The fit of one sample by `method` from the grid's inits, the best restart by objective.
struct Fit {
    Eigen::MatrixXd means;
    std::int64_t iterations = 0;
    bool converged = false;
};

// Scores of `estimate` (k x d) against the truth; accuracy from the nearest estimated mean of
// each sample (the MAP label at equal weights and one variance) after matching.
std::vector<double> score(const model::GaussianMixture& truth, const Eigen::MatrixXd& estimate,
                          const model::MixtureSample* sample) {
    std::vector<double> record(width, std::nan(""));
    const fit::Assignment match = fit::match_means(estimate, truth.means);
    const Eigen::Index k = truth.components();
    record[mse] = match.cost / static_cast<double>(k);
    const Eigen::RowVectorXd centre = truth.centre();
    double distance = 0.0, projection = 0.0;
    for (Eigen::Index i = 0; i < k; ++i) {
        const Eigen::RowVectorXd offset = estimate.row(match.column_of_row[i]) - centre;
        distance += offset.norm();
        const Eigen::RowVectorXd direction = truth.means.row(i) - centre;
        const double norm = direction.norm();
        projection += norm > 0.0 ? offset.dot(direction) / norm : 0.0;
    }
    record[centre_distance] = distance / static_cast<double>(k);
    record[along] = projection / static_cast<double>(k);
    if (sample != nullptr) {
        std::vector<Eigen::Index> true_of_estimate(static_cast<std::size_t>(k));
        for (Eigen::Index i = 0; i < k; ++i)
            true_of_estimate[static_cast<std::size_t>(match.column_of_row[i])] = i;
        const auto labels = fit::nearest_centres(sample->x, estimate);
        std::size_t right = 0;
        for (std::size_t m = 0; m < labels.size(); ++m)
            right += true_of_estimate[static_cast<std::size_t>(labels[m])] == sample->labels[m];
        record[accuracy] = static_cast<double>(right) / static_cast<double>(labels.size());
    }
    return record;
}

class Misspec final : public Experiment {
public:
    std::string_view name() const override { return "misspec"; }
    std::string_view description() const override {
        return "Gaussian mixtures fitted with the wrong variance: the (rho, SNR) phase diagram "
               "of EM and hard assignment";
    }
    RunDefaults run_defaults() const override {
        return {.steps = 0, .frame_every = 1, .block_size = 64, .checkpoint_every = 50};
    }

    void declare(core::Schema& schema) const override {
        constexpr double big = 1e12;
        schema.integer("misspec.dim", 1, 1, 1 << 16, "dimension d of the data")
            .integer("misspec.components", 2, 1, 1 << 10, "components K of the mixture and fit")
            .string("misspec.geometry", "symmetric", model::mixture_geometry_names(),
                    "where the K means sit: symmetric (+-mu, K = 2), simplex (the vertices of a "
                    "regular simplex centred at 0), custom (misspec.means, scaled about their "
                    "centroid to each SNR)")
            .real_array("misspec.means", {}, -big, big, 0,
                        "custom geometry: K rows of d values (row-major)")
            .real("misspec.sigma", 1.0, 1e-12, big, "noise standard deviation sigma")
            .real_array("misspec.weights", {}, 0.0, 1.0, 0,
                        "mixture weights pi_k (empty: uniform); the fits start from them")
            .integer("misspec.samples", 2000, 2, std::int64_t{1} << 31, "samples n per fit")
            .integer("misspec.replicates", 10, 1, 1 << 20, "fresh samples R per SNR")
            .real_array("misspec.rho", rho_grid(0.5, 3.5, 0.125), 1e-6, 1e6, 1,
                        "rho = tau / sigma of the fitted variance tau^2")
            .real_array("misspec.snr", {0.25, 0.5, 1.0, 2.0, 4.0, 8.0}, 0.0, 1e8, 1,
                        "SNR = (1/K) sum_k |mu_k - centroid|^2 / sigma^2: |mu|^2 / sigma^2 for "
                        "symmetric, r^2 / sigma^2 (r: each vertex's distance from the centre) "
                        "for simplex")
            .string_array("misspec.methods", {"em", "hard"}, {"em", "hard"}, 1,
                          "fits to run: EM at tau = rho sigma, hard assignment (Lloyd)")
            .string("misspec.init", "near_truth", {"near_truth", "kmeans++"},
                    "near_truth: the first restart starts at the true means (and weights), "
                    "later ones from k-means++ seeds; kmeans++: every restart from k-means++")
            .integer("misspec.restarts", 1, 1, 1 << 10,
                     "inits per fit; the best objective wins (EM: log-likelihood, hard: "
                     "within-cluster sum of squares)")
            .boolean("misspec.estimate_weights", false,
                     "EM also estimates the weights (else they stay at their start)")
            .real("misspec.tolerance", 1e-12, 0.0, 1.0,
                  "fits stop when an update moves the means by sum_k |delta mu_k|^2 <= "
                  "tolerance * sigma^2")
            .integer("misspec.max_iterations", 5000, 1, 1 << 30,
                     "updates per fit, and per population fixed point, at most");
    }

    void validate(const core::Config& cfg, const boost::mpi::communicator&) const override {
        const Grid grid = read_grid(cfg);
        const double jobs = static_cast<double>(grid.snr.size()) *
                            static_cast<double>(grid.replicates) *
                            static_cast<double>(grid.rho.size() + 2);
        if (jobs > std::numeric_limits<std::uint32_t>::max())
            throw config_error(cfg, "misspec.replicates",
                               "too many (rho, SNR, replicate) fits: at most 2^32 - 1");
    }

    std::vector<KeyFigure> run(Context& ctx) override {
        const Grid grid = read_grid(ctx.config);
        const std::uint64_t n_rho = grid.rho.size(), n_snr = grid.snr.size(),
                            reps = grid.replicates;
        // Job ids, in four ranges: EM fits (snr, replicate, rho), hard fits (snr, replicate),
        // population EM (snr, rho), population hard (snr). A method not selected runs none.
        const std::uint64_t em_fits = grid.runs(Method::em) ? n_snr * reps * n_rho : 0;
        const std::uint64_t hard_fits = grid.runs(Method::hard) ? n_snr * reps : 0;
        const std::uint64_t em_population = grid.runs(Method::em) ? n_snr * n_rho : 0;
        const std::uint64_t hard_population = grid.runs(Method::hard) ? n_snr : 0;
        const std::uint64_t first_hard = em_fits, first_em_population = em_fits + hard_fits,
                            first_hard_population = first_em_population + em_population;

        std::vector<model::GaussianMixture> mixtures;
        for (std::size_t j = 0; j < n_snr; ++j)
            mixtures.push_back(grid.mixture_at(j));

        Jobs jobs;
        jobs.label = "misspec";
        jobs.count = first_hard_population + hard_population;
        jobs.record_width = width;
        jobs.progress_entry = mse;
        jobs.progress_name = "mse";
        const auto n = static_cast<double>(grid.samples);
        // Relative costs for the longest-first schedule, in samples fitted: a population map
        // near the threshold takes thousands of passes over its quadrature points, like a fit
        // of some 5e4 samples.
        for (std::uint64_t job = 0; job < jobs.count; ++job)
            jobs.costs.push_back(job < first_hard ? n : job < first_em_population ? 0.5 * n : 5e4);
        jobs.describe = [&](std::uint64_t job) {
            if (job < first_hard)
                return fmt::format("EM, SNR {}, replicate {}, rho {}",
                                   grid.snr[job / (reps * n_rho)], job / n_rho % reps,
                                   grid.rho[job % n_rho]);
            if (job < first_em_population)
                return fmt::format("hard assignment, SNR {}, replicate {}",
                                   grid.snr[(job - first_hard) / reps], (job - first_hard) % reps);
            return std::string("population fixed point");
        };
        jobs.run = [&](std::uint64_t job, const core::StopCheck& stop) {
            core::throw_if_stopped(stop);
            if (job < first_hard) {
                const std::uint64_t snr_index = job / (reps * n_rho);
                return fit_job(grid, mixtures[snr_index], Method::em, ctx.seed,
                               snr_index * reps + job / n_rho % reps, grid.rho[job % n_rho]);
            }
            if (job < first_em_population) {
                const std::uint64_t data = job - first_hard;
                return fit_job(grid, mixtures[data / reps], Method::hard, ctx.seed, data, 0.0);
            }
            if (job < first_hard_population) {
                const std::uint64_t cell = job - first_em_population;
                return population_job(grid, mixtures[cell / n_rho], Method::em,
                                      grid.rho[cell % n_rho]);
            }
            return population_job(grid, mixtures[job - first_hard_population], Method::hard, 0.0);
        };
        const std::vector<double> table = run_jobs(ctx, jobs);

        // value(method, entry, replicate, rho index, snr index) from the table.
        auto value = [&](Method method, Entry entry, std::uint64_t r, std::uint64_t i,
                         std::uint64_t j) {
            const std::uint64_t job =
                method == Method::em ? (j * reps + r) * n_rho + i : first_hard + j * reps + r;
            return table[job * width + entry];
        };
        auto population = [&](Method method, Entry entry, std::uint64_t i, std::uint64_t j) {
            const std::uint64_t job = method == Method::em ? first_em_population + j * n_rho + i
                                                           : first_hard_population + j;
            return table[job * width + entry];
        };

        std::vector<KeyFigure> figures;
        for (Method method : grid.methods) {
            const std::string group = std::string("/estimates/") + method_name(method);
            io::write_replicated(ctx.output, group + "/rho", {n_rho}, std::span(grid.rho));
            io::write_replicated(ctx.output, group + "/snr", {n_snr}, std::span(grid.snr));
            for (std::size_t e = 0; e < width; ++e) {
                std::vector<double> cube; // [R][rho][snr]; hard assignment repeats along rho
                for (std::uint64_t r = 0; r < reps; ++r)
                    for (std::uint64_t i = 0; i < n_rho; ++i)
                        for (std::uint64_t j = 0; j < n_snr; ++j)
                            cube.push_back(value(method, static_cast<Entry>(e), r, i, j));
                io::write_replicated(ctx.output, group + "/" + entry_names[e], {reps, n_rho, n_snr},
                                     std::span<const double>(cube));
            }
            for (Entry e : {mse, centre_distance, along}) {
                std::vector<double> plane; // [rho][snr]
                for (std::uint64_t i = 0; i < n_rho; ++i)
                    for (std::uint64_t j = 0; j < n_snr; ++j)
                        plane.push_back(population(method, e, i, j));
                const std::string name =
                    e == mse ? "population" : std::string("population_") + entry_names[e];
                io::write_replicated(ctx.output, group + "/" + name, {n_rho, n_snr},
                                     std::span<const double>(plane));
            }
            std::uint64_t n_converged = 0, fits = 0;
            for (std::uint64_t r = 0; r < reps; ++r)
                for (std::uint64_t i = 0; i < (method == Method::em ? n_rho : 1); ++i)
                    for (std::uint64_t j = 0; j < n_snr; ++j, ++fits)
                        n_converged += value(method, converged, r, i, j) == 1.0 ? 1 : 0;
            figures.push_back({std::string(method_name(method)) + " fits converged",
                               fmt::format("{} of {}", n_converged, fits)});
        }
        write_thresholds(ctx, grid, mixtures, value, population, figures);
        write_theory(ctx, grid, mixtures);
        return figures;
    }

private:
    // Fits sample `data_job` of `truth` by `method` (EM at tau = rho sigma), scored.
    static std::vector<double> fit_job(const Grid& grid, const model::GaussianMixture& truth,
                                       Method method, std::uint64_t seed, std::uint64_t data_job,
                                       double rho) {
        const auto data_id = static_cast<std::uint32_t>(data_job);
        const model::MixtureSample sample =
            model::sample_mixture(truth, seed, data_id, grid.samples);
        const core::Philox rng(seed, "misspec.init");
        const double scale2 = grid.sigma * grid.sigma;
        Fit best;
        double best_objective = -std::numeric_limits<double>::infinity();
        for (std::int64_t restart = 0; restart < grid.restarts; ++restart) {
            Eigen::MatrixXd start;
            Eigen::VectorXd start_weights = truth.weights;
            if (grid.near_truth && restart == 0) {
                start = truth.means;
            } else {
                const fit::UniformDraw uniform = [&](std::uint32_t draw) {
                    return rng.uniform_pair(data_job, static_cast<std::uint32_t>(restart), draw)[0];
                };
                start = fit::kmeans_pp_seeds(sample.x, truth.components(), uniform);
                start_weights = model::uniform_weights(truth.components());
            }
            Fit candidate;
            double objective = 0.0;
            if (method == Method::em) {
                const auto result = fit::fit_isotropic_mixture(
                    sample.x, start, grid.estimate_weights ? start_weights : truth.weights,
                    {.variance = rho * rho * scale2,
                     .estimate_weights = grid.estimate_weights,
                     .tolerance = grid.tolerance * scale2,
                     .max_iterations = grid.max_iterations});
                candidate = {result.means, result.iterations, result.converged};
                objective = result.log_likelihood;
            } else {
                const auto result = fit::lloyd(sample.x, start,
                                               {.max_iterations = grid.max_iterations,
                                                .tolerance = grid.tolerance * scale2,
                                                .row_order_sums = false});
                candidate = {result.centres, result.iterations, result.converged};
                objective = -result.objective;
            }
            if (objective > best_objective) {
                best_objective = objective;
                best = std::move(candidate);
            }
        }
        std::vector<double> record = score(truth, best.means, &sample);
        record[iterations] = static_cast<double>(best.iterations);
        record[converged] = best.converged ? 1.0 : 0.0;
        return record;
    }

    // The population (n -> infinity) fixed point of `method`'s map from the truth, scored.
    static std::vector<double> population_job(const Grid& grid, const model::GaussianMixture& truth,
                                              Method method, double rho) {
        fit::PopulationSettings settings;
        settings.variance = rho * rho * grid.sigma * grid.sigma;
        settings.estimate_weights = grid.estimate_weights;
        // At rho = rho_c the map contracts only algebraically: cap it as the fits are capped.
        settings.max_iterations = grid.max_iterations;
        const auto fixed =
            method == Method::em
                ? fit::population_em_fixed_point(truth, truth.means, truth.weights, settings)
                : fit::population_hard_fixed_point(truth, truth.means, settings);
        std::vector<double> record = score(truth, fixed.means, nullptr);
        record[iterations] = static_cast<double>(fixed.iterations);
        record[converged] = fixed.converged ? 1.0 : 0.0;
        return record;
    }

    // The collapse boundary per SNR: theory, and measured where the mean (over replicates)
    // distance of the EM estimates from the centre first falls below collapse_fraction of the
    // true means': the smallest such rho on the grid, and the crossing interpolated linearly
    // in rho between the grid points around it (also from the population fixed points).
    template <class Value, class Population>
    static void write_thresholds(Context& ctx, const Grid& grid,
                                 const std::vector<model::GaussianMixture>& mixtures,
                                 const Value& value, const Population& population,
                                 std::vector<KeyFigure>& figures) {
        if (!grid.runs(Method::em))
            return;
        const std::uint64_t n_rho = grid.rho.size(), n_snr = grid.snr.size();
        std::vector<std::uint64_t> by_rho(n_rho);
        std::iota(by_rho.begin(), by_rho.end(), std::uint64_t{0});
        std::stable_sort(by_rho.begin(), by_rho.end(),
                         [&](auto a, auto b) { return grid.rho[a] < grid.rho[b]; });
        auto crossing = [&](auto distance_at, double scale) {
            double previous_rho = std::nan(""), previous = std::nan("");
            for (std::uint64_t i : by_rho) {
                const double now = distance_at(i) / scale;
                if (now < collapse_fraction) {
                    if (std::isnan(previous))
                        return grid.rho[i];
                    const double t = (previous - collapse_fraction) / (previous - now);
                    return previous_rho + t * (grid.rho[i] - previous_rho);
                }
                previous_rho = grid.rho[i];
                previous = now;
            }
            return std::numeric_limits<double>::infinity(); // no collapse on the grid
        };
        auto grid_crossing = [&](auto distance_at, double scale) {
            for (std::uint64_t i : by_rho)
                if (distance_at(i) / scale < collapse_fraction)
                    return grid.rho[i];
            return std::numeric_limits<double>::infinity();
        };
        std::vector<double> theory, measured, on_grid, from_population;
        std::vector<std::string> shown;
        for (std::uint64_t j = 0; j < n_snr; ++j) {
            const double radius = std::sqrt(grid.snr[j]) * grid.sigma;
            theory.push_back(fit::collapse_threshold_rho(mixtures[j]));
            const auto mean_distance = [&](std::uint64_t i) {
                double sum = 0.0;
                for (std::uint64_t r = 0; r < grid.replicates; ++r)
                    sum += value(Method::em, centre_distance, r, i, j);
                return sum / static_cast<double>(grid.replicates);
            };
            measured.push_back(crossing(mean_distance, radius));
            on_grid.push_back(grid_crossing(mean_distance, radius));
            from_population.push_back(crossing(
                [&](std::uint64_t i) { return population(Method::em, centre_distance, i, j); },
                radius));
            shown.push_back(fmt::format("{:.3g}: {:.3f} / {:.3f}", grid.snr[j], theory.back(),
                                        measured.back()));
        }
        const std::string group = "/estimates/threshold";
        io::write_replicated(ctx.output, group + "/snr", {n_snr}, std::span(grid.snr));
        io::write_replicated(ctx.output, group + "/rho_collapse_theory", {n_snr},
                             std::span<const double>(theory));
        io::write_replicated(ctx.output, group + "/rho_collapse_measured", {n_snr},
                             std::span<const double>(measured));
        io::write_replicated(ctx.output, group + "/rho_collapse_grid", {n_snr},
                             std::span<const double>(on_grid));
        io::write_replicated(ctx.output, group + "/rho_collapse_population", {n_snr},
                             std::span<const double>(from_population));
        const double fraction = collapse_fraction;
        io::write_replicated(ctx.output, group + "/collapse_fraction", {}, std::span(&fraction, 1));
        figures.push_back(
            {"collapse rho, SNR: theory / measured", fmt::format("{}", fmt::join(shown, "; "))});
    }

    // Closed forms beside the measurements: the hard-assignment fixed point for +-mu.
    static void write_theory(Context& ctx, const Grid& grid,
                             const std::vector<model::GaussianMixture>& mixtures) {
        if (grid.geometry != model::MixtureGeometry::symmetric)
            return;
        std::vector<double> hard;
        for (std::size_t j = 0; j < grid.snr.size(); ++j)
            hard.push_back(
                fit::hard_fixed_point_symmetric(mixtures[j].means.row(0).norm(), grid.sigma));
        io::write_replicated(ctx.output, "/estimates/theory/snr", {grid.snr.size()},
                             std::span(grid.snr));
        io::write_replicated(ctx.output, "/estimates/theory/hard_fixed_point", {grid.snr.size()},
                             std::span<const double>(hard));
    }
};

} // namespace

std::unique_ptr<Experiment> make_misspec() {
    return std::make_unique<Misspec>();
}

} // namespace moesim::experiments
