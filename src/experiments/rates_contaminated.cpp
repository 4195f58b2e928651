// The rates family of contaminated MoEs (gates "contaminated" and "softmax_contaminated"):
// a known pre-trained expert f0 plus one Gaussian prompt, fitted by EM (fit/contaminated_em)
// and scored by per-parameter and combined losses (fit/contaminated_loss). The prompt's true
// (a, b, nu) come from rates.{expert_slope, expert_bias, variance} (one expert), beta and tau
// from rates.{gate_slope, gate_bias}; the means are phi(a'x + b) (rates.expert_mean) and
// phi0(a0'x + b0) (rates.f0_mean). To reproduce the papers' "truth moving with n" regimes,
// lambda* and the prompt's distance to f0 may shrink with n: lambda*(n) = mixing (n /
// n_1)^-mixing_exponent (prompt vanishing, n_1 the first grid point) and, for each part p of
// rates.prompt_gap_parts (slope, bias, variance), p*(n) = p0 + (p - p0) (n /
// n_ref)^-prompt_gap_exponent (prompt merging into f0), n_ref = rates.prompt_gap_reference_n
// (0: n_1). With n_ref = 1 and the given slope 2 eta0 this is arXiv 2505.18455's
// eta0 (1 + n^-gamma). A Laplace f0's variance, the reference of the variance part, is 2 s0^2.

#include "experiments/rates_family.hpp"

#include "moesim/core/error.hpp"
#include "moesim/fit/contaminated_em.hpp"
#include "moesim/fit/contaminated_loss.hpp"
#include "moesim/fit/density_loss.hpp"

#include <fmt/format.h>

#include <cmath>

namespace moesim::experiments::rates {

namespace {

// A shared real-array key that must hold `count` values here.
Eigen::VectorXd read_vector(const core::Config& cfg, const char* key, Eigen::Index count,
                            const char* what) {
    const auto& values = cfg.real_array(key);
    if (static_cast<Eigen::Index>(values.size()) != count)
        throw core::ConfigError({cfg.origin(key)}, key,
                                fmt::format("has {} values, expected {} ({} of gate '{}'; "
                                            "jobs/configs/rates-{}.toml is a complete example)",
                                            values.size(), count, what, cfg.string("rates.gate"),
                                            cfg.string("rates.gate") == "contaminated"
                                                ? "contaminated"
                                                : "softmax-contaminated"));
    return Eigen::Map<const Eigen::VectorXd>(values.data(), count);
}

class Contaminated final : public Family {
public:
    explicit Contaminated(const core::Config& cfg)
        : gate_(cfg.string("rates.gate") == "contaminated" ? model::PromptGate::constant
                                                           : model::PromptGate::softmax),
          em_(em_settings(cfg)), x_scale_(cfg.real("rates.x_scale")),
          n_first_(static_cast<double>(cfg.integer_array("rates.n").front())),
          mixing_exponent_(cfg.real("rates.mixing_exponent")),
          gap_exponent_(cfg.real("rates.prompt_gap_exponent")),
          density_points_(static_cast<Eigen::Index>(cfg.integer("rates.density_points"))) {
        if (const auto reference = cfg.integer("rates.prompt_gap_reference_n"); reference > 0)
            gap_reference_n_ = static_cast<double>(reference);
        for (const auto& part : cfg.string_array("rates.prompt_gap_parts")) {
            gap_slope_ = gap_slope_ || part == "slope";
            gap_bias_ = gap_bias_ || part == "bias";
            gap_variance_ = gap_variance_ || part == "variance";
        }
        const auto d = static_cast<Eigen::Index>(cfg.integer("rates.dim"));
        em_.gate_newton_steps = cfg.integer("rates.gate_newton_steps");
        if (em_.init != fit::EmInit::near_truth)
            throw core::ConfigError({cfg.origin("rates.init")}, "rates.init",
                                    "contaminated gates start near the truth only: f0 is known, so "
                                    "there are no clusters to seed (set init = \"near_truth\")");
        f0_.family = model::parse_pretrained_family(cfg.string("rates.f0"));
        f0_.slope = read_vector(cfg, "rates.f0_slope", d, "dim values, the slope of f0");
        f0_.bias = cfg.real("rates.f0_bias");
        f0_.scale = cfg.real("rates.f0_scale");
        f0_.mean = expert_function(cfg, "rates.f0_mean");
        prompt_ = model::ContaminatedParams::zeros(d);
        prompt_.mixing = cfg.real("rates.mixing");
        prompt_.prompt_slope = read_vector(cfg, "rates.expert_slope", d, "dim values, the prompt");
        prompt_.prompt_bias = read_vector(cfg, "rates.expert_bias", 1, "one value, the prompt")(0);
        prompt_.prompt_variance = read_vector(cfg, "rates.variance", 1, "one value, the prompt")(0);
        if (gate_ == model::PromptGate::softmax) {
            prompt_.gate_slope = read_vector(cfg, "rates.gate_slope", d, "dim values, beta");
            prompt_.gate_bias = read_vector(cfg, "rates.gate_bias", 1, "one value, tau")(0);
        }
    }

    std::vector<std::string> loss_names() const override {
        auto names = fit::contaminated_loss_names(gate_);
        if (!em_.fit_expert_bias)
            drop_loss(names, "prompt_bias"); // 0 by construction
        if (density_points_ > 0)
            names.emplace_back("density_hellinger");
        return names;
    }

    FitOutcome fit_job(std::uint64_t seed, std::uint32_t job_id, Eigen::Index n,
                       const core::StopCheck& stop) const override {
        const auto truth = truth_at(n);
        const auto sample = model::sample_contaminated(gate_, f0_, truth, seed, job_id, n,
                                                       x_scale_, em_.expert_mean);
        fit::EmSettings em = em_;
        em.stop = stop;
        const auto result =
            fit::fit_contaminated_em(gate_, f0_, sample.x, sample.y, truth, em, seed, job_id);
        FitOutcome out{result.iterations, result.log_likelihood, result.converged, result.restart,
                       fit::contaminated_losses(gate_, result.params, truth)};
        if (!em_.fit_expert_bias)
            drop_loss(fit::contaminated_loss_names(gate_), "prompt_bias", out.losses);
        Eigen::VectorXd resp;
        out.truth_objective = fit::contaminated_e_step(gate_, f0_, sample.x, sample.y, truth, resp,
                                                       em_.expert_mean);
        if (density_points_ > 0) {
            const Eigen::MatrixXd x =
                fit::density_evaluation_inputs(seed, density_points_, truth.dim(), x_scale_);
            out.losses.push_back(fit::expected_hellinger(
                fit::contaminated_mixtures(gate_, f0_, result.params, x, em_.expert_mean),
                fit::contaminated_mixtures(gate_, f0_, truth, x, em_.expert_mean)));
        }
        return out;
    }

private:
    model::ContaminatedParams truth_at(Eigen::Index n) const {
        model::ContaminatedParams truth = prompt_;
        const double ratio = static_cast<double>(n) / n_first_;
        truth.mixing = prompt_.mixing * std::pow(ratio, -mixing_exponent_);
        if (gap_exponent_ > 0.0) {
            const double shrink =
                std::pow(static_cast<double>(n) / gap_reference_n_, -gap_exponent_);
            if (gap_slope_)
                truth.prompt_slope = f0_.slope + shrink * (prompt_.prompt_slope - f0_.slope);
            if (gap_bias_)
                truth.prompt_bias = f0_.bias + shrink * (prompt_.prompt_bias - f0_.bias);
            if (gap_variance_) {
                const double nu0 = f0_.variance();
                truth.prompt_variance = nu0 + shrink * (prompt_.prompt_variance - nu0);
            }
        }
        return truth;
    }

    model::PromptGate gate_;
    fit::EmSettings em_;
    double x_scale_;
    double n_first_;
    double mixing_exponent_;
    double gap_exponent_;
    Eigen::Index density_points_;
    double gap_reference_n_ = n_first_; ///< n_ref of the prompt's drift
    bool gap_slope_ = false, gap_bias_ = false, gap_variance_ = false;
    model::PretrainedExpert f0_;
    model::ContaminatedParams prompt_; ///< the truth at n_1
};

void declare(core::Schema& schema) {
    constexpr double big = 1e12;
    schema
        .string("rates.f0", "gaussian", model::pretrained_family_names(),
                "contaminated gates: family of the fixed pre-trained expert f0")
        .real_array("rates.f0_slope", {0.0}, -big, big, 1,
                    "contaminated gates: slope a0 of f0's location a0'x + b0 (dim values)")
        .real("rates.f0_bias", 0.0, -big, big, "contaminated gates: bias b0 of f0's location")
        .real("rates.f0_scale", 1.0, 1e-12, big,
              "contaminated gates: f0's variance nu0 (gaussian) or Laplace scale s0 (laplace: "
              "density exp(-|y - m| / s0) / (2 s0), variance 2 s0^2)")
        .string("rates.f0_mean", "linear", model::expert_kind_names(),
                "contaminated gates: f0's location phi0(a0'x + b0)")
        .real("rates.mixing", 0.3, 1e-9, 1.0 - 1e-9,
              "contaminated gate: true prompt weight lambda* at the first n")
        .real("rates.mixing_exponent", 0.0, 0.0, 10.0,
              "contaminated gate: lambda*(n) = mixing * (n / n_1)^-gamma (prompt vanishing): gamma")
        .real("rates.prompt_gap_exponent", 0.0, 0.0, 10.0,
              "contaminated gates: each part p of prompt_gap_parts = f0's + (given - f0's) * "
              "(n / n_ref)^-gamma (prompt merging into f0; a Laplace f0's variance is 2 s0^2): "
              "gamma")
        .string_array("rates.prompt_gap_parts", {"slope", "bias", "variance"},
                      {"slope", "bias", "variance"}, 1,
                      "contaminated gates: the prompt parameters that drift towards f0's")
        .integer("rates.prompt_gap_reference_n", 0, 0, std::int64_t{1} << 40,
                 "contaminated gates: n_ref of the drift (0: the first n; 1: given = 2 eta0 "
                 "gives eta0 (1 + n^-gamma))");
}

std::unique_ptr<Family> make(const core::Config& cfg) {
    return std::make_unique<Contaminated>(cfg);
}

} // namespace

FamilyEntry contaminated_family() {
    return {{"contaminated", "softmax_contaminated"}, &declare, &make};
}

} // namespace moesim::experiments::rates
