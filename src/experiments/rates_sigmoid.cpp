// The rates family of sigmoid-gated MoE regressions (gate `sigmoid`, model/sigmoid_moe):
// y = sum_i sigma(beta1_i'x + beta0_i) phi(a_i'x + b_i) + N(0, rates.noise_variance), fitted
// by least squares with Levenberg-Marquardt (fit/least_squares) and scored by the sigmoid
// Voronoi loss (fit/sigmoid_voronoi_loss). Gate `softmax_regression` is the same regression
// with softmax_i(beta1'x + beta0) weights, the same data stream (one truth, same x and
// noise), the same fit, and the softmax Voronoi loss of fit/voronoi_loss (masses exp(beta0),
// gates compared in its gauge; no variance term: the noise is not estimated). Truth from rates.{gate_slope, gate_bias,
// expert_slope, expert_bias} (rates.variance is not used: the noise is shared). Fits start
// near the truth (rates.init = "near_truth" only; k-means++ inits are not implemented for
// this gate) and may be confined to |parameter| < rates.parameter_bound, the compact set of
// the theory. The recorded objective is -RSS/n, minus the mean squared residual, so that, as
// for likelihoods, higher is better. Over-specified fits (k > k*) add the raw errors within
// the split cells (split_gate_slope, split_expert_slope, split_expert_bias).

#include "experiments/rates_family.hpp"

#include "moesim/core/error.hpp"
#include "moesim/fit/density_loss.hpp"
#include "moesim/fit/least_squares.hpp"
#include "moesim/fit/sigmoid_voronoi_loss.hpp"
#include "moesim/fit/voronoi_loss.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace moesim::experiments::rates {

namespace {

model::SigmoidMoeParams true_sigmoid_params(const core::Config& cfg, Eigen::Index k,
                                            Eigen::Index d) {
    model::SigmoidMoeParams p = model::SigmoidMoeParams::zeros(k, d);
    p.gate_slope = read_expert_rows(cfg, "rates.gate_slope", k, d);
    p.gate_bias = read_expert_rows(cfg, "rates.gate_bias", k, 1);
    p.expert_slope = read_expert_rows(cfg, "rates.expert_slope", k, d);
    p.expert_bias = read_expert_rows(cfg, "rates.expert_bias", k, 1);
    return p;
}

// A regression atom set as a Gaussian MoE with unit variances (the softmax Voronoi loss reads
// only gates and experts then: its variance term is 0).
model::MoeParams as_moe(const model::SigmoidMoeParams& p) {
    model::MoeParams out = model::MoeParams::zeros(p.experts(), p.dim());
    out.gate_slope = p.gate_slope;
    out.gate_bias = p.gate_bias;
    out.expert_slope = p.expert_slope;
    out.expert_bias = p.expert_bias;
    out.variance.setOnes();
    return out.last_gate_zero();
}

class SigmoidMoe final : public Family {
public:
    explicit SigmoidMoe(const core::Config& cfg)
        : k_fit_(static_cast<Eigen::Index>(cfg.integer("rates.k_fit"))),
          truth_(true_sigmoid_params(cfg, static_cast<Eigen::Index>(cfg.integer("rates.k_true")),
                                     static_cast<Eigen::Index>(cfg.integer("rates.dim")))),
          expert_{model::parse_expert_kind(cfg.string("rates.expert_kind")),
                  static_cast<int>(cfg.integer("rates.expert_degree"))},
          noise_variance_(cfg.real("rates.noise_variance")), x_scale_(cfg.real("rates.x_scale")),
          exponent_(cfg.real("rates.voronoi_exponent")),
          density_points_(static_cast<Eigen::Index>(cfg.integer("rates.density_points"))) {
        if (density_points_ > 0 && noise_variance_ <= 0.0)
            throw core::ConfigError({cfg.origin("rates.density_points")}, "rates.density_points",
                                    "the density loss needs rates.noise_variance > 0 (the "
                                    "true conditional density is N(f(x), noise_variance))");
        gate_ = cfg.string("rates.gate") == "softmax_regression" ? model::RegressionGate::softmax
                                                                  : model::RegressionGate::sigmoid;
        gauge_ = fit::parse_gate_gauge(cfg.string("rates.gauge"));
        if (cfg.string("rates.init") != "near_truth")
            throw core::ConfigError({cfg.origin("rates.init")}, "rates.init",
                                    "the sigmoid gate supports only \"near_truth\" inits");
        const fit::EmSettings em = em_settings(cfg);
        ls_.tolerance = em.tolerance;
        ls_.max_iterations = em.max_iterations;
        ls_.restarts = em.restarts;
        ls_.init_noise = em.init_noise;
        ls_.init_noise_exponent = em.init_noise_exponent;
        ls_.parameter_bound = cfg.real("rates.parameter_bound");
        ls_.gate = gate_;
        const double bound = ls_.parameter_bound;
        const Eigen::VectorXd packed = truth_.pack();
        if (bound > 0.0 && packed.cwiseAbs().maxCoeff() >= bound)
            throw core::ConfigError({cfg.origin("rates.parameter_bound")}, "rates.parameter_bound",
                                    fmt::format("must exceed every true parameter's magnitude "
                                                "(largest {})",
                                                packed.cwiseAbs().maxCoeff()));
    }

    std::vector<std::string> loss_names() const override {
        auto names = fit::sigmoid_voronoi_loss_names();
        if (density_points_ > 0)
            names.emplace_back("density_hellinger");
        if (over_specified()) {
            // Last, so that every loss reported before they existed keeps its index (the
            // bootstrap stream of its interval).
            const auto split = fit::regression_split_cell_loss_names();
            names.insert(names.end(), split.begin(), split.end());
        }
        return names;
    }

    FitOutcome fit_job(std::uint64_t seed, std::uint32_t job_id, Eigen::Index n,
                       const core::StopCheck& stop) const override {
        const auto sample = model::sample_sigmoid_moe(expert_, truth_, noise_variance_, seed,
                                                      job_id, n, x_scale_, gate_);
        fit::LeastSquaresSettings ls = ls_;
        ls.stop = stop;
        const auto result = fit::fit_least_squares(expert_, sample.x, sample.y, k_fit_, ls,
                                                   {&truth_, seed, job_id});
        FitOutcome out{result.iterations, -result.rss / static_cast<double>(n), result.converged,
                       result.restart, {}};
        out.truth_objective =
            -(sample.y - model::sigmoid_moe_mean(expert_, truth_, sample.x, gate_)).squaredNorm() /
            static_cast<double>(n);
        std::vector<double> split;
        if (gate_ == model::RegressionGate::sigmoid) {
            const auto loss = fit::sigmoid_voronoi_loss(result.params, truth_, exponent_);
            out.losses = fit::as_array(loss);
            split = fit::split_cell_array(loss);
        } else {
            const auto loss =
                fit::voronoi_loss(as_moe(result.params), as_moe(truth_), {exponent_, gauge_});
            out.losses = fit::as_array(loss);
            out.losses.pop_back(); // the variance term, 0 by construction
            split = fit::split_cell_array(loss);
            split.pop_back(); // split_variance, likewise
        }
        if (density_points_ > 0) {
            // The fitted conditional density is N(f^(x), RSS/n), the likelihood's maximiser
            // of the noise variance given f^.
            const Eigen::MatrixXd x =
                fit::density_evaluation_inputs(seed, density_points_, truth_.dim(), x_scale_);
            const double fitted_variance =
                std::max(result.rss / static_cast<double>(n), 1e-300);
            out.losses.push_back(fit::regression_hellinger(
                model::sigmoid_moe_mean(expert_, result.params, x, gate_), fitted_variance,
                model::sigmoid_moe_mean(expert_, truth_, x, gate_), noise_variance_));
        }
        if (over_specified())
            out.losses.insert(out.losses.end(), split.begin(), split.end());
        return out;
    }

private:
    bool over_specified() const { return k_fit_ > truth_.experts(); }

    Eigen::Index k_fit_;
    model::SigmoidMoeParams truth_;
    model::ExpertFunction expert_;
    model::RegressionGate gate_ = model::RegressionGate::sigmoid;
    fit::GateGauge gauge_ = fit::GateGauge::last_cell;
    fit::LeastSquaresSettings ls_;
    double noise_variance_;
    double x_scale_;
    double exponent_;
    Eigen::Index density_points_;
};

void declare(core::Schema& schema) {
    schema
        .string("rates.expert_kind", "relu", model::expert_kind_names(),
                "sigmoid gate: expert h(x) = phi(a'x + b), phi linear (identity), relu, gelu or "
                "polynomial (z^expert_degree)")
        .integer("rates.expert_degree", 2, 1, 16,
                 "degree p of polynomial experts (a'x + b)^p (rates.expert_kind, expert_mean, f0_mean)")
        .real("rates.noise_variance", 0.1, 0.0, 1e12,
              "sigmoid gate: variance of the regression noise y = f(x) + N(0, noise_variance)")
        .real("rates.parameter_bound", 0.0, 0.0, 1e6,
              "sigmoid gate: least squares over |parameter| < bound (the paper's compact set; "
              "0 = unbounded)");
}

std::unique_ptr<Family> make(const core::Config& cfg) {
    return std::make_unique<SigmoidMoe>(cfg);
}

} // namespace

FamilyEntry sigmoid_moe_family() {
    return {{"sigmoid", "softmax_regression"}, &declare, &make};
}

} // namespace moesim::experiments::rates
