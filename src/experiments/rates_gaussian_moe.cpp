// The rates family of Gaussian MoEs with softmax-type gates (softmax, top-K), fitted by EM
// and scored by Voronoi and per-parameter losses (fit/em, fit/voronoi_loss).

#include "experiments/rates_family.hpp"

#include "moesim/fit/voronoi_loss.hpp"

namespace moesim::experiments::rates {

namespace {

class GaussianMoe final : public Family {
public:
    explicit GaussianMoe(const core::Config& cfg)
        : dim_(static_cast<Eigen::Index>(cfg.integer("rates.dim"))),
          k_fit_(static_cast<Eigen::Index>(cfg.integer("rates.k_fit"))),
          truth_(true_moe_params(cfg, static_cast<Eigen::Index>(cfg.integer("rates.k_true")),
                                 dim_)),
          gate_(model::make_gate(cfg.string("rates.gate"), cfg.integer("rates.top_k"))),
          em_(em_settings(cfg)), x_scale_(cfg.real("rates.x_scale")),
          voronoi_{cfg.real("rates.voronoi_exponent"),
                   fit::parse_gate_gauge(cfg.string("rates.gauge"))} {
        em_.gate_newton_steps = cfg.integer("rates.gate_newton_steps");
    }

    std::vector<std::string> loss_names() const override { return fit::voronoi_loss_names(); }

    FitOutcome fit_job(std::uint64_t seed, std::uint32_t job_id, Eigen::Index n) const override {
        const auto sample = model::sample_moe(*gate_, truth_, seed, job_id, n, x_scale_);
        const auto result = fit::fit_em(*gate_, sample.x, sample.y, k_fit_, em_,
                                        {&truth_, seed, job_id});
        return {result.iterations, result.log_likelihood, result.converged, result.restart,
                fit::as_array(fit::voronoi_loss(result.params, truth_, voronoi_))};
    }

private:
    Eigen::Index dim_;
    Eigen::Index k_fit_;
    model::MoeParams truth_;
    std::unique_ptr<model::Gate> gate_;
    fit::EmSettings em_;
    double x_scale_;
    fit::VoronoiSettings voronoi_;
};

void declare(core::Schema& schema) {
    schema
        .integer("rates.top_k", 2, 1, 1 << 10,
                 "K of the topk gate: softmax over the K largest logits (K >= k is softmax)")
        .integer("rates.gate_newton_steps", 3, 1, 1000, "Newton steps of the gate per M-step")
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
