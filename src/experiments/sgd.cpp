// sgd: online SGD of an expert-parallel MoE and of a vanilla two-layer network on the same
// clustered single-index sample stream (MODELS.md section 2), on the step driver. Writes,
// every frame, /observables/{train_loss,test_loss}[moe, vanilla], overlap_moe[expert][cluster],
// overlap_moe_routed[cluster], overlap_vanilla[cluster], router_accuracy[cluster],
// expert_load[expert], and /particles/expert_w[expert][hidden][dim]; timers under
// /timing/<phase>; at the end /estimates/steps_to_recovery.

#include "experiments/clustered_data_config.hpp"
#include "experiments/experiment.hpp"
#include "experiments/step_driver.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/table.hpp"
#include "moesim/model/clustered_single_index.hpp"
#include "moesim/model/load_balancing_loss.hpp"
#include "moesim/model/moe_layer.hpp"
#include "moesim/model/online_kmeans.hpp"
#include "moesim/model/softmax_topk_router.hpp"
#include "moesim/model/two_layer_network.hpp"
#include "moesim/par/all_gather_rows.hpp"
#include "moesim/par/communicator.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

namespace moesim::experiments {

namespace {

using model::RowMatrix;

// max_j |<w_j, w*_c>| / |w_j| over the rows w_j of `weights[first, first + count)`, per c.
std::vector<double> best_overlaps(const RowMatrix& weights, Eigen::Index first, Eigen::Index count,
                                  const RowMatrix& directions) {
    std::vector<double> best(static_cast<std::size_t>(directions.rows()), 0.0);
    for (Eigen::Index j = first; j < first + count; ++j) {
        const double norm = weights.row(j).norm();
        if (norm == 0.0)
            continue;
        for (Eigen::Index c = 0; c < directions.rows(); ++c)
            best[static_cast<std::size_t>(c)] =
                std::max(best[static_cast<std::size_t>(c)],
                         std::abs(weights.row(j).dot(directions.row(c))) / norm);
    }
    return best;
}

void normalize_rows(RowMatrix& weights) {
    for (Eigen::Index j = 0; j < weights.rows(); ++j) {
        const double norm = weights.row(j).norm();
        if (norm > 0)
            weights.row(j) /= norm;
    }
}

// The factor sgd.lr_scaling applies to the expert and vanilla step sizes at this d.
double lr_factor(const core::Config& cfg) {
    if (cfg.string("sgd.lr_scaling") == "inverse_dim")
        return static_cast<double>(cfg.integer("sgd.lr_reference_dim")) /
               static_cast<double>(cfg.integer("sgd.dim"));
    return 1.0;
}

class Sgd final : public Experiment {
public:
    std::string_view name() const override { return "sgd"; }
    std::string_view description() const override {
        return "expert-parallel MoE vs a two-layer network, online SGD on clustered "
               "single-index data";
    }
    RunDefaults run_defaults() const override {
        return {.steps = 3000, .frame_every = 50, .block_size = 32};
    }

    void declare(core::Schema& schema) const override {
        declare_clustered_data(schema, "sgd",
                               {.dim = 64,
                                .clusters = 2,
                                .link_coefficients = {0.0, 1.0, 0.0, -1.0},
                                .link_note = "",
                                .shared_direction = true})
            .integer("sgd.batch", 64, 1, 1 << 24, "fresh samples per step (both models)")
            .integer("sgd.test_samples", 2048, 1, 1 << 24, "fixed test set size")
            .string("sgd.activation", "he2", model::activation_names(),
                    "activation of experts and vanilla neurons (he2 matches the default He_2 "
                    "links; with it the vanilla network gets no correlational signal at all)")
            .integer("sgd.experts", 4, 1, 1 << 20, "number of experts C'")
            .integer("sgd.expert_hidden", 2, 1, 1 << 20, "hidden neurons per expert")
            .integer("sgd.expert_block", 1, 1, 1 << 20,
                     "experts per partition block (results independent of the rank count)")
            .integer("sgd.top_k", 1, 1, 1 << 20, "experts per sample (softmax top-k router)")
            .integer("sgd.vanilla_width", 4, 1, std::int64_t(1) << 30,
                     "neurons m of the vanilla network")
            .real("sgd.lr_experts", 0.1, 0.0, 1e6, "learning rate of expert weights")
            .real("sgd.lr_router", 0.5, 0.0, 1e6, "learning rate of the router")
            .real("sgd.router_balance", 0.1, 0.0, 1e6,
                  "weight alpha of the load-balancing loss alpha * C' * sum_e f_e P_e added to "
                  "the router's (Switch Transformer; f_e: fraction of the batch routed to e, "
                  "P_e: mean router probability of e); 0 disables")
            .real("sgd.lr_vanilla", 0.1, 0.0, 1e6, "learning rate of the vanilla network")
            .string("sgd.lr_scaling", "none", {"none", "inverse_dim"},
                    "inverse_dim: sgd.lr_experts and sgd.lr_vanilla are the step sizes at "
                    "d = sgd.lr_reference_dim and are used times lr_reference_dim/d (spherical "
                    "online SGD at information exponent 2 needs step ~ 1/d, then ~ d log d "
                    "steps); the router's step sizes are not scaled")
            .integer("sgd.lr_reference_dim", 64, 1, 1 << 20,
                     "the d at which sgd.lr_experts and sgd.lr_vanilla hold with "
                     "lr_scaling = inverse_dim")
            .integer("sgd.router_kmeans_steps", 0, 0, std::numeric_limits<std::uint32_t>::max(),
                     "steps at the start (all steps if >= run.steps) in which the router rows "
                     "are trained as online k-means prototypes of the inputs alone (step size "
                     "sgd.lr_router_kmeans; no labels, no cluster ids) instead of by the loss "
                     "and load-balancing gradients; experts and vanilla train as usual")
            .real("sgd.lr_router_kmeans", 0.5, 0.0, 1e6, "step size of the router's online k-means")
            .boolean("sgd.normalize", true,
                     "project first-layer directions back to the unit sphere after each step")
            .real("sgd.init_output_sd", 1.0, 0.0, 1e6, "initial second-layer weights ~ N(0, sd^2)")
            .real("sgd.init_router_sd", 0.3, 0.0, 1e6,
                  "initial router weights ~ N(0, (sd^2/d)) per coordinate")
            .real("sgd.recovery_threshold", 0.9, 0.0, 1.0,
                  "overlap a cluster's direction must reach to count as recovered");
    }

    void validate(const core::Config& cfg, const boost::mpi::communicator&) const override {
        validate_clustered_data(cfg, "sgd");
        const auto n_experts = cfg.integer("sgd.experts");
        const auto top_k = cfg.integer("sgd.top_k");
        const auto steps = static_cast<std::uint64_t>(cfg.integer("run.steps"));
        if (top_k > n_experts)
            throw core::ConfigError(
                {cfg.origin("sgd.top_k")}, "sgd.top_k",
                fmt::format("is {}, more than sgd.experts = {}", top_k, n_experts));
        if (steps > std::numeric_limits<std::uint32_t>::max())
            throw core::ConfigError({"<config>"}, "run.steps", "sgd supports at most 2^32-1 steps");
    }

    std::vector<KeyFigure> run(Context& ctx) override {
        const core::Config& cfg = ctx.config;
        const auto& comm = ctx.comm;
        const auto dim = static_cast<Eigen::Index>(cfg.integer("sgd.dim"));
        const auto clusters = static_cast<int>(cfg.integer("sgd.clusters"));
        const auto n_experts = cfg.integer("sgd.experts");
        const auto top_k = static_cast<Eigen::Index>(cfg.integer("sgd.top_k"));
        const auto batch = static_cast<std::uint64_t>(cfg.integer("sgd.batch"));
        const auto block = static_cast<std::uint64_t>(cfg.integer("run.block_size"));
        const auto activation = model::parse_activation(cfg.string("sgd.activation"));
        const bool normalize = cfg.boolean("sgd.normalize");

        const model::ClusteredSingleIndexSpec spec = clustered_data_spec(cfg, "sgd");
        const model::ClusteredSingleIndex data(ctx.seed, spec);

        // Models. Samples of a step are split over ranks by run.block_size for the MoE; the
        // vanilla network sees the whole batch on every rank with its neurons sharded.
        const par::BlockPartition experts(
            static_cast<std::uint64_t>(n_experts),
            static_cast<std::uint64_t>(cfg.integer("sgd.expert_block")), comm.size());
        const auto hidden = static_cast<Eigen::Index>(cfg.integer("sgd.expert_hidden"));
        const double weight_sd = 1.0 / std::sqrt(static_cast<double>(dim));
        model::MoeLayer moe(comm, experts, dim, hidden, activation,
                            std::make_unique<model::SoftmaxTopKRouter>(dim, n_experts, top_k));
        moe.set_input_gradient(false); // the layer sits on the data: dL/dx is never used
        const auto width = static_cast<std::uint64_t>(cfg.integer("sgd.vanilla_width"));
        const par::BlockPartition neurons(width, block, comm.size());
        model::TwoLayerNetwork vanilla(comm, neurons, dim, activation);
        const auto n_exp = static_cast<std::uint64_t>(n_experts);
        const auto n_clusters = static_cast<std::uint64_t>(clusters);
        std::vector<double> recovery(2 * n_clusters, -1.0); // [model][cluster], frame steps

        // The whole state by global id (experts, neurons), the replicated router and the
        // recovery steps found so far: a restart at any rank count continues bitwise as the
        // uninterrupted run, since every sample is drawn by (step, id).
        Steps steps;
        steps.label = "sgd";
        steps.phases = {"route", "dispatch", "expert", "combine", "reduce", "vanilla"};
        {
            auto& w = moe.expert_weights();
            auto& a = moe.expert_output_weights();
            auto& v = vanilla.weights();
            auto& u = vanilla.output_weights();
            const auto first_expert = moe.local_experts().begin;
            const auto first_neuron = vanilla.local_ids().begin;
            const auto h = static_cast<std::uint64_t>(hidden);
            const auto d = static_cast<std::uint64_t>(dim);
            steps.state
                .distributed("expert_w", n_exp, first_expert, {h, d},
                             {w.data(), static_cast<std::size_t>(w.size())})
                .distributed("expert_a", n_exp, first_expert, {h},
                             {a.data(), static_cast<std::size_t>(a.size())})
                .replicated("router", {n_exp, moe.router().parameters().size() / n_exp},
                            moe.router().parameters())
                .distributed("vanilla_w", width, first_neuron, {d},
                             {v.data(), static_cast<std::size_t>(v.size())})
                .distributed("vanilla_u", width, first_neuron, {},
                             {u.data(), static_cast<std::size_t>(u.size())})
                .replicated("recovery", {2, n_clusters}, recovery);
        }
        steps.initialize = [&] {
            moe.initialize(ctx.seed, weight_sd, cfg.real("sgd.init_output_sd"),
                           cfg.real("sgd.init_router_sd") * weight_sd);
            vanilla.initialize(ctx.seed, weight_sd, cfg.real("sgd.init_output_sd"));
            if (normalize) {
                normalize_rows(moe.expert_weights());
                normalize_rows(vanilla.weights());
            }
        };
        steps.time = [&](std::uint64_t step) { return static_cast<double>(step * batch); };

        const double lr_experts = cfg.real("sgd.lr_experts") * lr_factor(cfg);
        const double lr_router = cfg.real("sgd.lr_router");
        const double lr_vanilla = cfg.real("sgd.lr_vanilla") * lr_factor(cfg);
        const auto router_kmeans_steps =
            static_cast<std::uint64_t>(cfg.integer("sgd.router_kmeans_steps"));
        const double lr_router_kmeans = cfg.real("sgd.lr_router_kmeans");
        const double router_balance = cfg.real("sgd.router_balance");

        const par::BlockPartition batch_samples(batch, block, comm.size());
        const auto n_test = static_cast<std::uint64_t>(cfg.integer("sgd.test_samples"));
        const par::BlockPartition test_samples(n_test, block, comm.size());
        const par::IdRange my_test = test_samples.items_of(comm.rank());
        RowMatrix test_inputs, test_local_inputs;
        Eigen::VectorXd test_labels, test_local_labels;
        std::vector<int> test_clusters, test_local_clusters;
        data.sample("test", 0, static_cast<Eigen::Index>(n_test), test_inputs, test_labels,
                    test_clusters);
        data.sample("test", my_test.begin, static_cast<Eigen::Index>(my_test.size()),
                    test_local_inputs, test_local_labels, test_local_clusters);

        const double threshold = cfg.real("sgd.recovery_threshold");
        std::vector<double> last_moe_overlap(n_clusters), last_vanilla_overlap(n_clusters);
        double last_test[2] = {0, 0};

        RowMatrix local_inputs, batch_inputs;
        Eigen::VectorXd local_labels, batch_labels;
        std::vector<int> local_clusters, batch_clusters;

        // Mean squared loss / 2 over a sample partition, from this rank's residuals.
        auto mean_loss = [&](const par::BlockPartition& samples, const Eigen::VectorXd& residual) {
            std::vector<double> squares(static_cast<std::size_t>(residual.size()));
            for (Eigen::Index i = 0; i < residual.size(); ++i)
                squares[static_cast<std::size_t>(i)] = 0.5 * residual(i) * residual(i);
            return par::deterministic_sum(comm, samples, squares) /
                   static_cast<double>(samples.n_items());
        };
        auto load_batch = [&](std::uint64_t step) {
            const par::IdRange mine = batch_samples.items_of(comm.rank());
            data.sample("train", step * batch + mine.begin, static_cast<Eigen::Index>(mine.size()),
                        local_inputs, local_labels, local_clusters);
            data.sample("train", step * batch, static_cast<Eigen::Index>(batch), batch_inputs,
                        batch_labels, batch_clusters);
        };

        steps.frame = [&](std::uint64_t step, Frame& frame) {
            // Losses on the batch the next step trains on (before its update) and the test set.
            load_batch(step);
            const double train[2] = {
                mean_loss(batch_samples, moe.forward(batch_samples, local_inputs) - local_labels),
                0.5 * (vanilla.predict(batch_inputs) - batch_labels).squaredNorm() /
                    static_cast<double>(batch)};
            const std::vector<double> load = moe.expert_load(); // of that batch
            const Eigen::VectorXd moe_test = moe.forward(test_samples, test_local_inputs);
            const double test[2] = {mean_loss(test_samples, moe_test - test_local_labels),
                                    0.5 *
                                        (vanilla.predict(test_inputs) - test_labels).squaredNorm() /
                                        static_cast<double>(n_test)};
            for (double v : {train[0], train[1], test[0], test[1]})
                frame.require_finite("loss", v);

            // Router accuracy on the test set: counts[c][e] of top-1 assignments per block.
            const auto top = moe.top_expert();
            const par::IdRange test_blocks = test_samples.blocks_of(comm.rank());
            const std::size_t count_width = n_clusters * n_exp;
            std::vector<double> count_partials(test_blocks.size() * count_width, 0.0);
            for (std::size_t i = 0; i < top.size(); ++i) {
                const std::uint64_t b = test_samples.block_of_item(my_test.begin + i);
                count_partials[(b - test_blocks.begin) * count_width +
                               static_cast<std::size_t>(test_local_clusters[i]) * n_exp +
                               static_cast<std::size_t>(top[i])] += 1.0;
            }
            const auto counts =
                par::sum_block_partials(comm, test_samples, count_partials, count_width);
            std::vector<double> accuracy(n_clusters, 0.0);
            std::vector<std::size_t> best_expert(n_clusters, 0);
            for (std::size_t c = 0; c < n_clusters; ++c) {
                const double* row = counts.data() + c * n_exp;
                best_expert[c] = static_cast<std::size_t>(std::max_element(row, row + n_exp) - row);
                double total = 0;
                for (std::size_t e = 0; e < n_exp; ++e)
                    total += row[e];
                accuracy[c] = total > 0 ? row[best_expert[c]] / total : 0.0;
            }

            // Overlaps: per expert (gathered) and the vanilla network's best neuron per cluster.
            std::vector<double> local_overlaps;
            for (Eigen::Index le = 0; le < static_cast<Eigen::Index>(moe.local_experts().size());
                 ++le) {
                const auto best =
                    best_overlaps(moe.expert_weights(), le * hidden, hidden, data.directions());
                local_overlaps.insert(local_overlaps.end(), best.begin(), best.end());
            }
            const auto moe_overlaps =
                par::all_gather_rows(comm, experts, local_overlaps, n_clusters);
            std::vector<double> neuron_overlaps;
            for (Eigen::Index j = 0; j < vanilla.weights().rows(); ++j) {
                const auto best = best_overlaps(vanilla.weights(), j, 1, data.directions());
                neuron_overlaps.insert(neuron_overlaps.end(), best.begin(), best.end());
            }
            const auto all_neuron_overlaps =
                par::all_gather_rows(comm, neurons, neuron_overlaps, n_clusters);
            std::vector<double> vanilla_overlap(n_clusters, 0.0);
            for (std::size_t j = 0; j < width; ++j)
                for (std::size_t c = 0; c < n_clusters; ++c)
                    vanilla_overlap[c] =
                        std::max(vanilla_overlap[c], all_neuron_overlaps[j * n_clusters + c]);
            // A cluster is recovered by the MoE when the expert it is mostly routed to has a
            // neuron aligned with the cluster's direction.
            for (std::size_t c = 0; c < n_clusters; ++c) {
                last_moe_overlap[c] = moe_overlaps[best_expert[c] * n_clusters + c];
                last_vanilla_overlap[c] = vanilla_overlap[c];
                if (recovery[c] < 0 && last_moe_overlap[c] >= threshold)
                    recovery[c] = static_cast<double>(step);
                if (recovery[n_clusters + c] < 0 && vanilla_overlap[c] >= threshold)
                    recovery[n_clusters + c] = static_cast<double>(step);
            }

            const auto& w = moe.expert_weights();
            frame.particles("expert_w", n_exp,
                            {static_cast<std::uint64_t>(hidden), static_cast<std::uint64_t>(dim)},
                            {w.data(), static_cast<std::size_t>(w.size())});
            frame.observable("train_loss", train, {2});
            frame.observable("test_loss", test, {2});
            frame.observable("overlap_moe", moe_overlaps, {n_exp, n_clusters});
            // Overlap of the expert each cluster is mostly routed to: what steps_to_recovery
            // uses.
            frame.observable("overlap_moe_routed", last_moe_overlap, {n_clusters});
            frame.observable("overlap_vanilla", vanilla_overlap, {n_clusters});
            frame.observable("router_accuracy", accuracy, {n_clusters});
            // Slots routed to each expert from the batch the next step trains on.
            frame.observable("expert_load", load, {n_exp});
            last_test[0] = test[0];
            last_test[1] = test[1];
            frame.headline("test loss (moe)", test[0]);
        };

        steps.step = [&](std::uint64_t step, StepScope& scope) {
            load_batch(step);
            // MoE: forward, backward, SGD on the local experts and the replicated router.
            const Eigen::VectorXd residual =
                moe.forward(batch_samples, local_inputs) - local_labels;
            moe.backward(residual / static_cast<double>(batch));
            moe.expert_weights() -= lr_experts * moe.expert_weight_gradient();
            moe.expert_output_weights() -= lr_experts * moe.expert_output_weight_gradient();
            auto router = moe.router().parameters();
            if (step < router_kmeans_steps) {
                model::online_kmeans_step(router, batch_inputs,
                                          static_cast<Eigen::Index>(n_experts), lr_router_kmeans,
                                          static_cast<Eigen::Index>(block));
            } else {
                const std::vector<double> balance = model::load_balancing_gradient(
                    router, batch_inputs, moe.expert_load(), router_balance,
                    static_cast<Eigen::Index>(block));
                for (std::size_t p = 0; p < router.size(); ++p)
                    router[p] -= lr_router * (moe.router_gradient()[p] + balance[p]);
            }
            auto& moe_seconds = moe.phase_seconds();
            auto& timers = scope.timers();
            timers.add("route", moe_seconds.route);
            timers.add("dispatch", moe_seconds.dispatch);
            timers.add("expert", moe_seconds.expert);
            timers.add("combine", moe_seconds.combine);
            timers.add("reduce", moe_seconds.reduce);
            moe_seconds = {};
            // Vanilla network on the same samples.
            timers.time("vanilla", [&] {
                const Eigen::VectorXd vanilla_residual =
                    vanilla.predict(batch_inputs) - batch_labels;
                vanilla.backward(batch_inputs, vanilla_residual / static_cast<double>(batch));
                vanilla.weights() -= lr_vanilla * vanilla.weight_gradient();
                vanilla.output_weights() -= lr_vanilla * vanilla.output_weight_gradient();
                // Before renormalising, which would turn an overflowed row into zeros or NaN.
                const auto values = [](const auto& m) {
                    return std::span<const double>(m.data(), static_cast<std::size_t>(m.size()));
                };
                scope.check_finite("MoE residual", values(residual));
                scope.check_finite("expert weights", values(moe.expert_weights()));
                scope.check_finite("expert output weights", values(moe.expert_output_weights()));
                scope.check_finite("router weights", moe.router().parameters());
                scope.check_finite("vanilla residual", values(vanilla_residual));
                scope.check_finite("vanilla weights", values(vanilla.weights()));
                scope.check_finite("vanilla output weights", values(vanilla.output_weights()));
                if (normalize) {
                    normalize_rows(moe.expert_weights());
                    normalize_rows(vanilla.weights());
                }
            });
        };

        steps.finish = [&]() -> std::vector<KeyFigure> {
            io::write_replicated(ctx.output, "/estimates/steps_to_recovery", {2, n_clusters},
                                 recovery);
            auto list = [](const std::vector<double>& v) {
                std::vector<std::string> parts;
                for (double x : v)
                    parts.push_back(fmt::format("{:.3f}", x));
                return fmt::format("[{}]", fmt::join(parts, ", "));
            };
            return {{"test loss moe / vanilla (last frame)",
                     fmt::format("{:.4g} / {:.4g}", last_test[0], last_test[1])},
                    {"overlap per cluster, moe (last frame)", list(last_moe_overlap)},
                    {"overlap per cluster, vanilla (last frame)", list(last_vanilla_overlap)},
                    {"steps to recovery moe / vanilla",
                     fmt::format("{} / {}", list({recovery.begin(), recovery.begin() + clusters}),
                                 list({recovery.begin() + clusters, recovery.end()}))}};
        };
        return run_steps(ctx, std::move(steps));
    }
};

} // namespace

std::unique_ptr<Experiment> make_sgd() {
    return std::make_unique<Sgd>();
}

} // namespace moesim::experiments
