// routing: routers, capacity and load balance compared on one data stream (MODELS.md section
// 5, issue 14). Every router of routing.routers trains its own expert-parallel MoE layer from
// the same initial experts on the same seed and the same samples (routing.data: sgd's
// clustered single-index data, MODELS.md section 2, or a mixture of linear experts), one
// after the other within each step. Config keys follow
// Megatron-Core (moe_router_topk, moe_aux_loss_coeff, moe_z_loss_coeff,
// moe_expert_capacity_factor, moe_token_drop_policy, moe_router_bias_update_rate, ...; MODELS.md
// section 5.1). Writes every frame, per router, /routers/<name>/observables/{tokens_per_expert,
// processed_per_expert, maxvio, cv, drop_rate, dead_experts, train_loss, test_loss,
// router_expert_cosine, router_expert_cosine_mean, router_similarity,
// router_similarity_signed, coupling, coupling_mean}; timers /timing/<name> per router; at the
// end the summary table /estimates/routers/{name, final_loss, maxvio, cv, drop_rate, coupling,
// router_similarity}. The metrics cost little beside the steps: a frame's forward and
// backward on the next batch are the next step's own (reused), its test loss is on a small
// set (routing.test_samples), its series are buffered and written every 5 s, and the summary's
// final loss is on a larger set evaluated once (routing.final_test_samples).

#include "experiments/clustered_data_config.hpp"
#include "experiments/experiment.hpp"
#include "experiments/step_driver.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/io/table.hpp"
#include "moesim/model/clustered_single_index.hpp"
#include "moesim/model/expert_capacity.hpp"
#include "moesim/model/kmeans_router.hpp"
#include "moesim/model/loss_free_bias.hpp"
#include "moesim/model/mixture_of_linear_experts.hpp"
#include "moesim/model/moe_layer.hpp"
#include "moesim/model/router_losses.hpp"
#include "moesim/model/sigmoid_topk_router.hpp"
#include "moesim/model/softmax_topk_router.hpp"
#include "moesim/par/all_gather_rows.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <span>

namespace moesim::experiments {

namespace {

using model::RowMatrix;

// The routers a config can select (routing.routers).
enum class RouterKind { aux_loss, loss_free, sigmoid, sigmoid_bias, kmeans, control };

const std::vector<std::string>& router_names() {
    static const std::vector<std::string> names{"aux_loss", "loss_free", "sigmoid",
                                                "sigmoid_bias", "kmeans",   "control"};
    return names;
}

model::MixtureOfLinearExpertsSpec linear_experts_spec(const core::Config& cfg) {
    return {.dim = static_cast<Eigen::Index>(cfg.integer("routing.dim")),
            .experts = static_cast<int>(cfg.integer("routing.clusters")),
            .gate_scale = cfg.real("routing.rho"),
            .label_noise = cfg.real("routing.label_noise")};
}

RouterKind parse_router(const std::string& name) {
    const auto& names = router_names();
    const auto it = std::find(names.begin(), names.end(), name);
    core::require(it != names.end(), "routing: unknown router");
    return static_cast<RouterKind>(it - names.begin());
}

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

double cosine(const Eigen::Ref<const Eigen::RowVectorXd>& a,
              const Eigen::Ref<const Eigen::RowVectorXd>& b) {
    const double norms = a.norm() * b.norm();
    return norms > 0 ? a.dot(b) / norms : not_a_number;
}

// Mean of the finite values, NaN if there are none.
double finite_mean(const std::vector<double>& values) {
    double sum = 0;
    int n = 0;
    for (double v : values)
        if (std::isfinite(v)) {
            sum += v;
            ++n;
        }
    return n > 0 ? sum / n : not_a_number;
}

void normalize_rows(RowMatrix& weights) {
    for (Eigen::Index j = 0; j < weights.rows(); ++j) {
        const double norm = weights.row(j).norm();
        if (norm > 0)
            weights.row(j) /= norm;
    }
}

// Load-balance figures of one batch's per-expert slot counts.
struct Balance {
    double maxvio = 0; // (max - mean) / mean
    double cv = 0;     // population standard deviation / mean
};

Balance balance_of(const std::vector<double>& load) {
    const double n = static_cast<double>(load.size());
    double mean = 0, top = 0;
    for (double c : load) {
        mean += c;
        top = std::max(top, c);
    }
    mean /= n;
    if (mean <= 0)
        return {};
    double var = 0;
    for (double c : load)
        var += (c - mean) * (c - mean);
    return {(top - mean) / mean, std::sqrt(var / n) / mean};
}

// One router's model and its bookkeeping.
struct RouterRun {
    std::string name;
    RouterKind kind;
    std::unique_ptr<model::MoeLayer> moe;
    model::KMeansRouter* kmeans = nullptr; // the layer's router, for kmeans
    double alpha = 0, beta = 0;            // aux and z-loss coefficients
    bool trained = true;                   // router parameters trained by the loss
    bool biased = false;                   // loss-free selection bias
    model::ScoreFunction score = model::ScoreFunction::softmax;
    // Sums over the frames in the second half of the run (checkpointed): maxvio, cv,
    // drop_rate, coupling, router_similarity, frames, frames with a finite coupling.
    std::vector<double> summary = std::vector<double>(7, 0.0);
    double last_test_loss = not_a_number;
    // A frame's forward and backward on the batch of step `pass_step`, with the parameters
    // that step starts from: the step reuses them (the same bits) instead of a second pass.
    std::optional<std::uint64_t> pass_step;
    Eigen::VectorXd pass_residual;

    // Router rows (or centroids), E x dim.
    RowMatrix rows() const {
        if (kmeans)
            return kmeans->centroids();
        const auto p = moe->router().parameters();
        return Eigen::Map<const RowMatrix>(p.data(), moe->router().n_experts(), moe->dim());
    }
};

class Routing final : public Experiment {
public:
    std::string_view name() const override { return "routing"; }
    std::string_view description() const override {
        return "routers (aux-loss, loss-free bias, sigmoid, online k-means) compared on one "
               "clustered data stream: load balance, drops and router-expert geometry";
    }
    RunDefaults run_defaults() const override {
        return {.steps = 1500, .frame_every = 50, .block_size = 32};
    }

    void declare(core::Schema& schema) const override {
        declare_clustered_data(
            schema, "routing",
            {.dim = 32,
             .clusters = 4,
             .link_coefficients = {0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0},
             .link_note = " (default: He_2 of each cluster's own direction)",
             .shared_direction = false})
            .string("routing.data", "clustered", {"clustered", "linear_experts"},
                    "the data stream: clustered (sgd's clustered single-index data, keys "
                    "above) or linear_experts (a mixture of linear experts: x ~ N(0, I_d), "
                    "latent expert c drawn with probability softmax_c(rho <g_c, x>) over "
                    "routing.clusters orthonormal gate directions g_c, y = <beta_c, x> + "
                    "label_noise N(0, 1) with orthonormal beta_c orthogonal to every g_c; "
                    "link_coefficients and shared_direction unused; needs dim >= 2 clusters)")
            .integer("routing.batch", 128, 1, 1 << 24, "fresh tokens T per step")
            .integer("routing.test_samples", 128, 1, 1 << 24,
                     "test set of each frame's test_loss (the first test_samples of the test "
                     "stream); a frame costs about test_samples / (batch * run.frame_every) of "
                     "the run's forward passes")
            .integer("routing.final_test_samples", 2048, 1, 1 << 24,
                     "test set of /estimates/routers/final_loss (the first final_test_samples "
                     "of the test stream), evaluated once after the last step")
            .string("routing.activation", "he2", model::activation_names(),
                    "activation of the experts' hidden neurons")
            .integer("routing.num_experts", 8, 1, 1 << 20, "number of experts E (Megatron: "
                                                            "num_experts)")
            .integer("routing.expert_hidden", 2, 1, 1 << 20, "hidden neurons per expert")
            .integer("routing.expert_block", 1, 1, 1 << 20,
                     "experts per partition block (results independent of the rank count)")
            .string_array("routing.routers", router_names(), router_names(), 1,
                          "routers to compare, each on its own copy of the layer: aux_loss "
                          "(softmax top-k + Switch aux loss), loss_free (softmax top-k + "
                          "loss-free bias), sigmoid (sigmoid scores + aux loss), sigmoid_bias "
                          "(DeepSeek-V3: sigmoid scores + loss-free bias), kmeans (online "
                          "k-means, no router parameters), control (softmax top-k trained by "
                          "the loss alone)")
            .integer("routing.moe_router_topk", 2, 1, 1 << 20, "experts k per token")
            .boolean("routing.moe_router_pre_softmax", false,
                     "softmax routers: gates are the full-softmax probabilities of the k kept "
                     "(Switch) instead of the softmax over the k kept logits (Megatron's "
                     "default, Mixtral)")
            .real("routing.moe_router_topk_scaling_factor", 1.0, 1e-12, 1e6,
                  "sigmoid routers: gates s_e / sum_kept s times this factor")
            .real("routing.moe_aux_loss_coeff", 1e-2, 0.0, 1e6,
                  "alpha of the Switch load-balancing loss alpha * E * sum_e f_e P_e "
                  "(aux_loss and sigmoid routers)")
            .real("routing.moe_z_loss_coeff", 1e-3, 0.0, 1e6,
                  "beta of the router z-loss beta * mean (logsumexp logits)^2, for every "
                  "trained router but the control; 0 disables")
            .real("routing.moe_router_bias_update_rate", 1e-3, 0.0, 1e6,
                  "gamma of the loss-free bias update b_e += gamma * sign(mean load - load_e), "
                  "once per step from the global counts (loss_free, sigmoid_bias)")
            .real("routing.moe_expert_capacity_factor", 1.25, 0.0, 1e6,
                  "capacity factor c: each expert takes at most ceil(c*k*T/E) slots per batch "
                  "and drops the rest; 0: dropless (Megatron's default when unset)")
            .string("routing.moe_token_drop_policy", "probs", {"probs", "position"},
                    "which slots an expert over capacity keeps: probs (its C largest gates) or "
                    "position (its first C tokens of the batch)")
            .string("routing.kmeans_update", "cumulative", {"cumulative", "ema"},
                    "k-means centroid rule: cumulative (exact running mean of every state "
                    "routed so far) or ema (m += routing.kmeans_rate * (batch mean - m))")
            .real("routing.kmeans_rate", 0.1, 1e-12, 1.0, "step of the ema k-means rule")
            .real("routing.lr_experts", 0.1, 0.0, 1e6, "learning rate of expert weights")
            .real("routing.lr_router", 0.5, 0.0, 1e6, "learning rate of trained routers")
            .boolean("routing.normalize", true,
                     "project expert first-layer directions back to the unit sphere after each "
                     "step (as sgd)")
            .real("routing.init_output_sd", 1.0, 0.0, 1e6,
                  "initial second-layer weights ~ N(0, sd^2)")
            .real("routing.init_router_sd", 0.3, 0.0, 1e6,
                  "initial router weights and k-means centroids ~ N(0, sd^2/d) per coordinate");
    }

    void validate(const core::Config& cfg, const boost::mpi::communicator&) const override {
        if (cfg.string("routing.data") == "clustered")
            validate_clustered_data(cfg, "routing");
        else if (const auto spec = linear_experts_spec(cfg);
                 spec.dim < model::MixtureOfLinearExperts::vectors_needed(spec))
            throw core::ConfigError(
                {cfg.origin("routing.dim")}, "routing.dim",
                fmt::format("is {}, below the 2 * routing.clusters = {} orthonormal gate and "
                            "expert directions of routing.data = \"linear_experts\"",
                            spec.dim, model::MixtureOfLinearExperts::vectors_needed(spec)));
        if (cfg.integer("routing.moe_router_topk") > cfg.integer("routing.num_experts"))
            throw core::ConfigError({cfg.origin("routing.moe_router_topk")},
                                    "routing.moe_router_topk",
                                    fmt::format("is {}, more than routing.num_experts = {}",
                                                cfg.integer("routing.moe_router_topk"),
                                                cfg.integer("routing.num_experts")));
    }

    std::vector<KeyFigure> run(Context& ctx) override {
        const core::Config& cfg = ctx.config;
        const auto& comm = ctx.comm;
        // The data stream: every sample a function of (seed, stream, sample id).
        std::optional<model::ClusteredSingleIndex> clustered;
        std::optional<model::MixtureOfLinearExperts> linear_experts;
        if (cfg.string("routing.data") == "clustered")
            clustered.emplace(ctx.seed, clustered_data_spec(cfg, "routing"));
        else
            linear_experts.emplace(ctx.seed, linear_experts_spec(cfg));
        const struct {
            const std::optional<model::ClusteredSingleIndex>& clustered;
            const std::optional<model::MixtureOfLinearExperts>& linear_experts;
            void sample(const std::string& stream, std::uint64_t first, Eigen::Index count,
                        RowMatrix& inputs, Eigen::VectorXd& labels,
                        std::vector<int>& clusters) const {
                if (clustered)
                    clustered->sample(stream, first, count, inputs, labels, clusters);
                else
                    linear_experts->sample(stream, first, count, inputs, labels, clusters);
            }
        } data{clustered, linear_experts};
        const auto dim = static_cast<Eigen::Index>(cfg.integer("routing.dim"));
        const auto n_experts = cfg.integer("routing.num_experts");
        const auto n_exp = static_cast<std::uint64_t>(n_experts);
        const auto top_k = static_cast<Eigen::Index>(cfg.integer("routing.moe_router_topk"));
        const auto batch = static_cast<std::uint64_t>(cfg.integer("routing.batch"));
        const auto block = static_cast<std::uint64_t>(cfg.integer("run.block_size"));
        const auto hidden = static_cast<Eigen::Index>(cfg.integer("routing.expert_hidden"));
        const auto activation = model::parse_activation(cfg.string("routing.activation"));
        const bool normalize = cfg.boolean("routing.normalize");
        const auto n_steps = static_cast<std::uint64_t>(cfg.integer("run.steps"));
        const double weight_sd = 1.0 / std::sqrt(static_cast<double>(dim));
        const double lr_experts = cfg.real("routing.lr_experts");
        const double lr_router = cfg.real("routing.lr_router");
        const double bias_rate = cfg.real("routing.moe_router_bias_update_rate");
        model::ExpertCapacity capacity;
        if (cfg.real("routing.moe_expert_capacity_factor") > 0)
            capacity.factor = cfg.real("routing.moe_expert_capacity_factor");
        capacity.policy = model::parse_drop_policy(cfg.string("routing.moe_token_drop_policy"));

        const par::BlockPartition experts(
            n_exp, static_cast<std::uint64_t>(cfg.integer("routing.expert_block")), comm.size());
        std::vector<RouterRun> runs;
        for (const std::string& name : cfg.string_array("routing.routers")) {
            RouterRun run;
            run.name = name;
            run.kind = parse_router(name);
            const model::SoftmaxTopKOptions softmax{
                .renormalize = !cfg.boolean("routing.moe_router_pre_softmax"),
                .expert_bias = run.kind == RouterKind::loss_free};
            std::unique_ptr<model::Router> router;
            switch (run.kind) {
            case RouterKind::aux_loss:
            case RouterKind::loss_free:
            case RouterKind::control:
                router = std::make_unique<model::SoftmaxTopKRouter>(dim, n_experts, top_k, softmax);
                break;
            case RouterKind::sigmoid:
            case RouterKind::sigmoid_bias:
                router = std::make_unique<model::SigmoidTopKRouter>(
                    dim, n_experts, top_k, run.kind == RouterKind::sigmoid_bias,
                    cfg.real("routing.moe_router_topk_scaling_factor"));
                run.score = model::ScoreFunction::sigmoid;
                break;
            case RouterKind::kmeans: {
                auto kmeans = std::make_unique<model::KMeansRouter>(
                    dim, n_experts, top_k,
                    model::parse_kmeans_rule(cfg.string("routing.kmeans_update")),
                    cfg.real("routing.kmeans_rate"));
                run.kmeans = kmeans.get();
                run.trained = false;
                router = std::move(kmeans);
                break;
            }
            }
            run.alpha = (run.kind == RouterKind::aux_loss || run.kind == RouterKind::sigmoid)
                            ? cfg.real("routing.moe_aux_loss_coeff")
                            : 0.0;
            run.beta = (run.trained && run.kind != RouterKind::control)
                           ? cfg.real("routing.moe_z_loss_coeff")
                           : 0.0;
            run.biased = run.kind == RouterKind::loss_free || run.kind == RouterKind::sigmoid_bias;
            run.moe = std::make_unique<model::MoeLayer>(comm, experts, dim, hidden, activation,
                                                        std::move(router));
            run.moe->set_capacity(capacity);
            run.moe->set_input_gradient(false); // the layer is the whole model
            runs.push_back(std::move(run));
        }

        // The whole state by global expert id plus each router's replicated parameters, bias,
        // centroids and summary sums: a restart at any rank count continues bitwise, since
        // every sample is drawn by (step, id).
        Steps steps;
        steps.label = "routing";
        // 14 series per router per frame, each write of a series collective (about 20 ms for
        // all of them at 1 rank): buffered and written every 5 s (or 1000 frames).
        steps.frames_per_write = 1000;
        steps.write_every_seconds = 5;
        for (RouterRun& run : runs) {
            steps.phases.push_back(run.name);
            auto& moe = *run.moe;
            auto& w = moe.expert_weights();
            auto& a = moe.expert_output_weights();
            const auto first = moe.local_experts().begin;
            const std::string prefix = run.name + ".";
            steps.state
                .distributed(prefix + "expert_w", n_exp, first,
                             {static_cast<std::uint64_t>(hidden), static_cast<std::uint64_t>(dim)},
                             {w.data(), static_cast<std::size_t>(w.size())})
                .distributed(prefix + "expert_a", n_exp, first,
                             {static_cast<std::uint64_t>(hidden)},
                             {a.data(), static_cast<std::size_t>(a.size())})
                .replicated(prefix + "summary", {run.summary.size()}, run.summary);
            if (run.trained)
                steps.state.replicated(prefix + "router",
                                       {n_exp, moe.router().parameters().size() / n_exp},
                                       moe.router().parameters());
            if (run.biased)
                steps.state.replicated(prefix + "bias", {n_exp}, moe.router().selection_bias());
            if (run.kmeans) {
                auto& c = run.kmeans->centroids();
                steps.state
                    .replicated(prefix + "centroids", {n_exp, static_cast<std::uint64_t>(dim)},
                                {c.data(), static_cast<std::size_t>(c.size())})
                    .replicated(prefix + "counts", {n_exp}, run.kmeans->counts());
            }
        }
        const double router_sd = cfg.real("routing.init_router_sd") * weight_sd;
        steps.initialize = [&] {
            for (RouterRun& run : runs) {
                // The same streams for every router: all start from the same experts.
                run.moe->initialize(ctx.seed, weight_sd, cfg.real("routing.init_output_sd"),
                                    router_sd);
                if (normalize)
                    normalize_rows(run.moe->expert_weights());
                if (run.kmeans) {
                    const core::Philox rng(ctx.seed, "routing.kmeans_init");
                    auto& c = run.kmeans->centroids();
                    for (Eigen::Index e = 0; e < c.rows(); ++e) {
                        rng.fill_normal(static_cast<std::uint64_t>(e), 0,
                                        {c.row(e).data(), static_cast<std::size_t>(dim)});
                        c.row(e) *= router_sd;
                    }
                }
            }
        };
        steps.time = [&](std::uint64_t step) { return static_cast<double>(step * batch); };

        const par::BlockPartition batch_samples(batch, block, comm.size());
        // A test set: this rank's samples of the first n of the test stream.
        struct TestSet {
            par::BlockPartition samples;
            RowMatrix inputs;
            Eigen::VectorXd labels;
        };
        auto test_set = [&](const char* key) {
            TestSet set{par::BlockPartition(static_cast<std::uint64_t>(cfg.integer(key)), block,
                                            comm.size()),
                        {},
                        {}};
            const par::IdRange mine = set.samples.items_of(comm.rank());
            std::vector<int> clusters;
            data.sample("test", mine.begin, static_cast<Eigen::Index>(mine.size()), set.inputs,
                        set.labels, clusters);
            return set;
        };
        const TestSet frame_test = test_set("routing.test_samples");
        const auto& test_samples = frame_test.samples;
        const auto& test_local_inputs = frame_test.inputs;
        const auto& test_local_labels = frame_test.labels;

        RowMatrix local_inputs, batch_inputs;
        Eigen::VectorXd local_labels, batch_labels;
        std::vector<int> batch_clusters;
        std::optional<std::uint64_t> loaded_step;
        auto load_batch = [&](std::uint64_t step) {
            if (loaded_step == step)
                return;
            loaded_step = step;
            const par::IdRange mine = batch_samples.items_of(comm.rank());
            data.sample("train", step * batch, static_cast<Eigen::Index>(batch), batch_inputs,
                        batch_labels, batch_clusters);
            // This rank's rows of the whole batch (every sample is a function of its id).
            const auto first = static_cast<Eigen::Index>(mine.begin);
            const auto rows = static_cast<Eigen::Index>(mine.size());
            local_inputs = batch_inputs.middleRows(first, rows);
            local_labels = batch_labels.segment(first, rows);
        };
        auto mean_loss = [&](const par::BlockPartition& samples, const Eigen::VectorXd& residual) {
            std::vector<double> squares(static_cast<std::size_t>(residual.size()));
            for (Eigen::Index i = 0; i < residual.size(); ++i)
                squares[static_cast<std::size_t>(i)] = 0.5 * residual(i) * residual(i);
            return par::deterministic_sum(comm, samples, squares) /
                   static_cast<double>(samples.n_items());
        };

        steps.frame = [&](std::uint64_t step, Frame& frame) {
            // Everything on the batch the next step trains on (before its update). Per router
            // the local work first; then one reduction each for the train losses, the test
            // losses and the per-expert geometry of all routers (a collective costs more than
            // a router's frame arithmetic at 2 ranks).
            load_batch(step);
            const bool in_summary = 2 * step >= n_steps;
            const std::size_t n_runs = runs.size();
            const auto n_local_experts =
                static_cast<std::size_t>(experts.items_of(comm.rank()).size());
            const auto n_batch_local = static_cast<std::size_t>(local_inputs.rows());
            const auto n_test_local = static_cast<std::size_t>(test_local_inputs.rows());
            // Row-major: a row per local sample (or local expert), a column (pair) per router.
            std::vector<double> train_squares(n_batch_local * n_runs);
            std::vector<double> test_squares(n_test_local * n_runs);
            std::vector<double> local_geometry(n_local_experts * 2 * n_runs);
            std::vector<RowMatrix> router_rows(n_runs);
            for (std::size_t i = 0; i < n_runs; ++i) {
                RouterRun& run = runs[i];
                auto& moe = *run.moe;
                // The test set first: the batch's forward and backward below are left in the
                // layer for the step, which reuses them.
                moe.set_expert_counts(false); // the test set's counts are not recorded
                const Eigen::VectorXd test_residual =
                    moe.forward(test_samples, test_local_inputs) - test_local_labels;
                moe.set_expert_counts(true);
                for (std::size_t b = 0; b < n_test_local; ++b) {
                    const double r = test_residual(static_cast<Eigen::Index>(b));
                    test_squares[b * n_runs + i] = 0.5 * r * r;
                }
                const Eigen::VectorXd residual =
                    moe.forward(batch_samples, local_inputs) - local_labels;
                for (std::size_t b = 0; b < n_batch_local; ++b) {
                    const double r = residual(static_cast<Eigen::Index>(b));
                    train_squares[b * n_runs + i] = 0.5 * r * r;
                }
                // Gradients of the prediction loss alone on this batch (the step's own): the
                // coupling.
                moe.backward(residual / static_cast<double>(batch));
                run.pass_step = step;
                run.pass_residual = residual;
                router_rows[i] = run.rows();
                const RowMatrix& rows = router_rows[i];
                const auto& router_gradient = moe.router_gradient();
                // Per local expert: (router-expert cosine, coupling).
                for (std::size_t le = 0; le < n_local_experts; ++le) {
                    const auto e = static_cast<Eigen::Index>(moe.local_experts().begin + le);
                    double cos_sum = 0, coupling_sum = 0;
                    int coupling_n = 0;
                    for (Eigen::Index j = 0; j < hidden; ++j) {
                        const auto r = static_cast<Eigen::Index>(le) * hidden + j;
                        cos_sum += std::abs(cosine(rows.row(e), moe.expert_weights().row(r)));
                        if (!router_gradient.empty()) {
                            const Eigen::Map<const Eigen::RowVectorXd> g(
                                router_gradient.data() + e * dim, dim);
                            const double c = cosine(g, moe.expert_weight_gradient().row(r));
                            if (std::isfinite(c)) {
                                coupling_sum += std::abs(c);
                                ++coupling_n;
                            }
                        }
                    }
                    double* out = local_geometry.data() + (le * n_runs + i) * 2;
                    out[0] = cos_sum / static_cast<double>(hidden);
                    out[1] = coupling_n > 0 ? coupling_sum / coupling_n : not_a_number;
                }
            }
            const auto train_sums =
                par::deterministic_sum(comm, batch_samples, train_squares, n_runs);
            const auto test_sums = par::deterministic_sum(comm, test_samples, test_squares, n_runs);
            const auto geometry = par::all_gather_rows(comm, experts, local_geometry, 2 * n_runs);

            for (std::size_t i = 0; i < n_runs; ++i) {
                RouterRun& run = runs[i];
                auto& moe = *run.moe;
                const std::string group = "/routers/" + run.name;
                const double train = train_sums[i] / static_cast<double>(batch_samples.n_items());
                const double test = test_sums[i] / static_cast<double>(test_samples.n_items());
                // The layer's last forward was this batch's.
                const std::vector<double> load = moe.expert_load();
                const std::vector<double> processed = moe.expert_processed();
                double routed = 0, kept = 0, dead = 0;
                for (std::size_t e = 0; e < n_exp; ++e) {
                    routed += load[e];
                    kept += processed[e];
                    dead += processed[e] == 0 ? 1.0 : 0.0;
                }
                const double drop_rate = (routed - kept) / routed;
                const Balance bal = balance_of(load);
                std::vector<double> router_expert(n_exp), coupling(n_exp);
                for (std::size_t e = 0; e < n_exp; ++e) {
                    router_expert[e] = geometry[(e * n_runs + i) * 2];
                    coupling[e] = geometry[(e * n_runs + i) * 2 + 1];
                }
                const RowMatrix& rows = router_rows[i];
                double similarity = 0, similarity_signed = 0, pairs = 0;
                for (Eigen::Index e = 0; e < rows.rows(); ++e)
                    for (Eigen::Index f = e + 1; f < rows.rows(); ++f) {
                        const double c = cosine(rows.row(e), rows.row(f));
                        similarity += std::abs(c);
                        similarity_signed += c;
                        pairs += 1;
                    }
                similarity = pairs > 0 ? similarity / pairs : not_a_number;
                similarity_signed = pairs > 0 ? similarity_signed / pairs : not_a_number;
                const double coupling_mean = finite_mean(coupling);
                frame.require_finite(run.name + " loss", train);
                frame.require_finite(run.name + " loss", test);

                frame.observable_in(group, "tokens_per_expert", load, {n_exp});
                frame.observable_in(group, "processed_per_expert", processed, {n_exp});
                frame.observable_in(group, "maxvio", bal.maxvio);
                frame.observable_in(group, "cv", bal.cv);
                frame.observable_in(group, "drop_rate", drop_rate);
                frame.observable_in(group, "dead_experts", dead);
                frame.observable_in(group, "train_loss", train);
                frame.observable_in(group, "test_loss", test);
                frame.observable_in(group, "router_expert_cosine", router_expert, {n_exp});
                frame.observable_in(group, "router_expert_cosine_mean",
                                    finite_mean(router_expert));
                frame.observable_in(group, "router_similarity", similarity);
                frame.observable_in(group, "router_similarity_signed", similarity_signed);
                frame.observable_in(group, "coupling", coupling, {n_exp});
                frame.observable_in(group, "coupling_mean", coupling_mean);
                run.last_test_loss = test;
                if (in_summary) {
                    auto& s = run.summary;
                    s[0] += bal.maxvio;
                    s[1] += bal.cv;
                    s[2] += drop_rate;
                    s[4] += similarity;
                    s[5] += 1;
                    if (std::isfinite(coupling_mean)) {
                        s[3] += coupling_mean;
                        s[6] += 1;
                    }
                }
            }
            frame.headline(runs.front().name + " test loss", runs.front().last_test_loss);
        };

        steps.step = [&](std::uint64_t step, StepScope& scope) {
            load_batch(step);
            for (RouterRun& run : runs) {
                scope.timers().time(run.name, [&] {
                    auto& moe = *run.moe;
                    if (run.pass_step != step) {
                        // Only the loss-free bias reads this step's expert counts.
                        moe.set_expert_counts(run.biased);
                        run.pass_residual = moe.forward(batch_samples, local_inputs) - local_labels;
                        moe.set_expert_counts(true);
                        moe.backward(run.pass_residual / static_cast<double>(batch));
                    }
                    run.pass_step.reset();
                    const Eigen::VectorXd& residual = run.pass_residual;
                    moe.expert_weights() -= lr_experts * moe.expert_weight_gradient();
                    moe.expert_output_weights() -= lr_experts * moe.expert_output_weight_gradient();
                    auto router = moe.router().parameters();
                    if (run.trained) {
                        const auto e = static_cast<Eigen::Index>(n_experts);
                        const auto b = static_cast<Eigen::Index>(block);
                        const model::RouterLoss aux = model::switch_aux_loss(
                            router, batch_inputs, e, top_k, run.score, run.alpha, b);
                        const model::RouterLoss z =
                            model::router_z_loss(router, batch_inputs, e, run.beta, b);
                        for (std::size_t p = 0; p < router.size(); ++p)
                            router[p] -= lr_router * (moe.router_gradient()[p] + aux.gradient[p] +
                                                      z.gradient[p]);
                    }
                    if (run.biased)
                        model::update_expert_bias(moe.router().selection_bias(), moe.expert_load(),
                                                  bias_rate);
                    if (run.kmeans)
                        run.kmeans->update(batch_inputs, static_cast<Eigen::Index>(block));
                    const auto values = [](const auto& m) {
                        return std::span<const double>(m.data(),
                                                       static_cast<std::size_t>(m.size()));
                    };
                    scope.check_finite(run.name + " residual", values(residual));
                    scope.check_finite(run.name + " expert weights", values(moe.expert_weights()));
                    scope.check_finite(run.name + " router", moe.router().parameters());
                    if (normalize)
                        normalize_rows(moe.expert_weights());
                });
            }
            for (RouterRun& run : runs)
                run.moe->phase_seconds() = {};
        };

        steps.finish = [&]() -> std::vector<KeyFigure> {
            const std::size_t n = runs.size();
            std::vector<std::string> names;
            std::vector<double> final_loss, maxvio, cv, drop_rate, coupling, similarity;
            const TestSet final_test = test_set("routing.final_test_samples");
            for (RouterRun& run : runs) {
                const auto& s = run.summary;
                names.push_back(run.name);
                const Eigen::VectorXd residual =
                    run.moe->forward(final_test.samples, final_test.inputs) - final_test.labels;
                final_loss.push_back(mean_loss(final_test.samples, residual));
                const double frames = s[5] > 0 ? s[5] : not_a_number;
                maxvio.push_back(s[0] / frames);
                cv.push_back(s[1] / frames);
                drop_rate.push_back(s[2] / frames);
                coupling.push_back(s[6] > 0 ? s[3] / s[6] : not_a_number);
                similarity.push_back(s[4] / frames);
            }
            io::write_replicated_strings(ctx.output, "/estimates/routers/name", names);
            io::write_replicated(ctx.output, "/estimates/routers/final_loss", {n}, final_loss);
            io::write_replicated(ctx.output, "/estimates/routers/maxvio", {n}, maxvio);
            io::write_replicated(ctx.output, "/estimates/routers/cv", {n}, cv);
            io::write_replicated(ctx.output, "/estimates/routers/drop_rate", {n}, drop_rate);
            io::write_replicated(ctx.output, "/estimates/routers/coupling", {n}, coupling);
            io::write_replicated(ctx.output, "/estimates/routers/router_similarity", {n},
                                 similarity);
            std::vector<KeyFigure> figures;
            for (std::size_t i = 0; i < n; ++i)
                figures.push_back(
                    {fmt::format("{}: test loss / MaxVio / CV / drop / coupling / similarity",
                                 names[i]),
                     fmt::format("{:.4g} / {:.3f} / {:.3f} / {:.4f} / {:.3f} / {:.3f}",
                                 final_loss[i], maxvio[i], cv[i], drop_rate[i], coupling[i],
                                 similarity[i])});
            return figures;
        };
        return run_steps(ctx, std::move(steps));
    }
};

} // namespace

std::unique_ptr<Experiment> make_routing() {
    return std::make_unique<Routing>();
}

} // namespace moesim::experiments
