// The rates family of Gaussian MoEs with softmax-type gates (softmax, top-K, temperature,
// activation), fitted by EM and scored by Voronoi and per-parameter losses (fit/em,
// fit/voronoi_loss). The temperature and activation gates (model/tempered_gate.hpp) estimate
// a shared temperature tau next to the gate parameters and add its error to their losses
// (fit::tempered_losses). Over-specified fits (k > k*) also report the raw errors within the
// split cells (fit::split_cell_array, fit::tempered_split_cell_losses).

#include "experiments/rates_family.hpp"

#include "moesim/core/error.hpp"
#include "moesim/fit/density_loss.hpp"
#include "moesim/fit/routing_error.hpp"
#include "moesim/fit/voronoi_loss.hpp"
#include "moesim/model/tempered_gate.hpp"

#include <fmt/format.h>

namespace moesim::experiments::rates {

namespace {

// The fitted model's gate: the truth's, but with K = rates.fit_top_k when that is set. A set
// K >= k_fit selects every expert, which is the softmax gate: it is fitted as one (Newton
// M-steps instead of the top-K gate's Nelder-Mead search, same maximiser).
std::unique_ptr<model::Gate> fitted_gate(const core::Config& cfg) {
    const std::string gate = cfg.string("rates.gate");
    const std::int64_t k = cfg.integer("rates.fit_top_k");
    if (k == 0)
        return model::make_gate(gate, cfg.integer("rates.top_k"), cfg.string("rates.gate_activation"));
    if (gate != "topk")
        throw core::ConfigError({cfg.origin("rates.fit_top_k")}, "rates.fit_top_k",
                                "is for rates.gate = \"topk\" only");
    if (k >= cfg.integer("rates.k_fit"))
        return model::make_gate("softmax");
    return model::make_gate(gate, k);
}

class GaussianMoe final : public Family {
public:
    explicit GaussianMoe(const core::Config& cfg)
        : dim_(static_cast<Eigen::Index>(cfg.integer("rates.dim"))),
          k_fit_(static_cast<Eigen::Index>(cfg.integer("rates.k_fit"))),
          truth_(
              true_moe_params(cfg, static_cast<Eigen::Index>(cfg.integer("rates.k_true")), dim_)),
          gate_(model::make_gate(cfg.string("rates.gate"), cfg.integer("rates.top_k"),
                                 cfg.string("rates.gate_activation"))),
          fit_gate_(fitted_gate(cfg)),
          tempered_(dynamic_cast<const model::TemperedGate*>(gate_.get()) != nullptr),
          em_(em_settings(cfg)),
          x_scale_(cfg.real("rates.x_scale")),
          density_points_(static_cast<Eigen::Index>(cfg.integer("rates.density_points"))),
          voronoi_{cfg.real("rates.voronoi_exponent"),
                                                        fit::parse_gate_gauge(
                                                            cfg.string("rates.gauge"))} {
        em_.gate_newton_steps = cfg.integer("rates.gate_newton_steps");
        em_.gate_optimizer = fit::parse_gate_optimizer(cfg.string("rates.gate_optimizer"));
        em_.gate_lbfgs_iterations = cfg.integer("rates.gate_lbfgs_iterations");
        truth_.temperature = cfg.real("rates.temperature");
        // The activation gate has no slope translation symmetry: fixing the last expert's
        // gate at 0 restricts the model, so the truth must satisfy it too.
        if (gate_->name() == "activation") {
            const Eigen::Index last = truth_.experts() - 1;
            if (!truth_.gate_slope.row(last).isZero(0.0))
                throw core::ConfigError(
                    {cfg.origin("rates.gate_slope")}, "rates.gate_slope",
                    "the activation gate needs the last expert's gate slope to be 0 "
                    "(the fit fixes it there)");
            if (truth_.gate_bias(last) != 0.0)
                throw core::ConfigError({cfg.origin("rates.gate_bias")}, "rates.gate_bias",
                                        "the activation gate needs the last expert's gate bias "
                                        "to be 0 (the fit fixes it there)");
        }
    }

    std::vector<std::string> loss_names() const override {
        auto names = tempered_ ? fit::tempered_loss_names() : fit::voronoi_loss_names();
        if (!em_.fit_expert_bias)
            drop_loss(names, "expert_bias"); // 0 by construction
        if (reports_split_cells()) {
            auto split = fit::split_cell_loss_names();
            if (!em_.fit_expert_bias)
                drop_loss(split, "split_expert_bias");
            names.insert(names.end(), split.begin(), split.end());
        }
        if (reports_routing())
            names.emplace_back("gate_routing");
        if (density_points_ > 0)
            names.emplace_back("density_hellinger");
        if (reports_tempered_split_cells()) {
            // Last, so that every loss reported before they existed keeps its index (the
            // bootstrap stream of its interval).
            auto split = fit::tempered_split_cell_loss_names();
            if (!em_.fit_expert_bias)
                drop_loss(split, "split_expert_bias");
            names.insert(names.end(), split.begin(), split.end());
        }
        return names;
    }

    std::vector<std::string> unidentified_losses() const override {
        // A top-1 truth is identified only through its winner at each x: its gate masses and
        // slopes are not, and the Voronoi losses weigh every atom by its gate mass exp(beta0).
        // What is identified: the routing (gate_routing) and the density.
        if (!top1_truth())
            return {};
        auto names = loss_names();
        std::erase_if(names, [](const std::string& name) {
            return name == "gate_routing" || name == "density_hellinger";
        });
        return names;
    }

    FitOutcome fit_job(std::uint64_t seed, std::uint32_t job_id, Eigen::Index n,
                       const core::StopCheck& stop) const override {
        const auto sample =
            model::sample_moe(*gate_, truth_, seed, job_id, n, x_scale_, em_.expert_mean);
        fit::EmSettings em = em_;
        em.stop = stop;
        const auto result =
            fit::fit_em(*fit_gate_, sample.x, sample.y, k_fit_, em, {&truth_, seed, job_id});
        FitOutcome out{result.iterations, result.log_likelihood, result.converged, result.restart,
                       {}};
        if (tempered_) {
            out.losses = fit::tempered_losses(result.params, truth_, voronoi_);
        } else {
            const fit::VoronoiLoss loss = fit::voronoi_loss(result.params, truth_, voronoi_);
            out.losses = fit::as_array(loss);
            if (reports_split_cells()) {
                auto split = fit::split_cell_array(loss);
                if (!em_.fit_expert_bias)
                    drop_loss(fit::split_cell_loss_names(), "split_expert_bias", split);
                out.losses.insert(out.losses.end(), split.begin(), split.end());
            }
        }
        if (!em_.fit_expert_bias)
            drop_loss(tempered_ ? fit::tempered_loss_names() : fit::voronoi_loss_names(),
                      "expert_bias", out.losses);
        if (reports_routing())
            out.losses.push_back(fit::top1_routing_error(
                result.params, fit::voronoi_loss(result.params, truth_, voronoi_).cell, truth_,
                x_scale_));
        Eigen::MatrixXd resp;
        out.truth_objective =
            fit::e_step(*gate_, sample.x, sample.y, truth_, resp, em_.expert_mean);
        if (density_points_ > 0) {
            const Eigen::MatrixXd x =
                fit::density_evaluation_inputs(seed, density_points_, dim_, x_scale_);
            out.losses.push_back(fit::expected_hellinger(
                fit::moe_mixtures(*fit_gate_, result.params, x, em_.expert_mean),
                fit::moe_mixtures(*gate_, truth_, x, em_.expert_mean)));
        }
        if (reports_tempered_split_cells()) {
            auto split = fit::tempered_split_cell_losses(result.params, truth_, voronoi_);
            if (!em_.fit_expert_bias)
                drop_loss(fit::tempered_split_cell_loss_names(), "split_expert_bias", split);
            out.losses.insert(out.losses.end(), split.begin(), split.end());
        }
        return out;
    }

private:
    // Over-specified fits report the raw errors within split cells.
    bool reports_split_cells() const { return !tempered_ && k_fit_ > truth_.experts(); }
    bool reports_tempered_split_cells() const { return tempered_ && k_fit_ > truth_.experts(); }
    static bool top1(const model::Gate& gate) {
        const auto* topk = dynamic_cast<const model::TopKGate*>(&gate);
        return topk != nullptr && topk->top_k() == 1;
    }
    bool top1_truth() const { return top1(*gate_) && truth_.experts() > 1; }
    // The identified gate error of top-1 fits of a top-1 truth (d = 1: exact).
    bool reports_routing() const { return top1_truth() && top1(*fit_gate_) && dim_ == 1; }

    Eigen::Index dim_;
    Eigen::Index k_fit_;
    model::MoeParams truth_;
    std::unique_ptr<model::Gate> gate_;     ///< the truth's (top-K: K = rates.top_k)
    std::unique_ptr<model::Gate> fit_gate_; ///< the fitted model's (top-K: rates.fit_top_k)
    bool tempered_;
    fit::EmSettings em_;
    double x_scale_;
    Eigen::Index density_points_;
    fit::VoronoiSettings voronoi_;
};

void declare(core::Schema& schema) {
    schema
        .integer("rates.top_k", 2, 1, 1 << 10,
                 "K of the topk gate: softmax over the K largest logits (K >= k is softmax)")
        .integer("rates.fit_top_k", 0, 0, 1 << 10,
                 "K of the fitted topk gate when it differs from the truth's (arXiv "
                 "2309.13850's K-bar; 0: rates.top_k)")
        .integer("rates.gate_newton_steps", 3, 1, 1000, "Newton steps of the gate per M-step")
        .string("rates.gate_optimizer", "newton", fit::gate_optimizer_names(),
                "softmax gate M-step: damped Newton or L-BFGS (same maximiser)")
        .integer("rates.gate_lbfgs_iterations", 20, 1, 100000,
                 "L-BFGS steps of the gate per M-step (softmax with gate_optimizer = lbfgs, "
                 "temperature, activation)")
        .real("rates.temperature", 1.0, 1e-6, 1e6,
              "true temperature tau of the temperature and activation gates (estimated)")
        .string("rates.gate_activation", "tanh", {"tanh", "sigmoid", "gelu"},
                "sigma of the activation gate softmax((sigma(beta1'x) + beta0)/tau)")
        .real("rates.voronoi_exponent", 2.0, 1.0, 64.0,
              "Voronoi loss exponent r for cells with more than one fitted expert")
        .string("rates.gauge", "last_cell", fit::gate_gauge_names(),
                "gate translation fixed before comparing (see fit/voronoi_loss.hpp)");
}

std::unique_ptr<Family> make(const core::Config& cfg) {
    return std::make_unique<GaussianMoe>(cfg);
}

} // namespace

FamilyEntry gaussian_moe_family() {
    return {model::gate_names(), &declare, &make};
}

} // namespace moesim::experiments::rates
