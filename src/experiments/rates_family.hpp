#pragma once
// A model family of the rates experiment (MODELS.md section 1): how one (n, replicate) job
// draws its data, fits it and measures its losses. The Gaussian MoE with softmax-type gates
// fitted by EM is one family; least-squares sigmoid MoEs and contaminated mixtures are
// others. Adding a family is one file in this folder plus one line in rates_families.cpp;
// rates.cpp owns the grid, the schedule, the gathering by job id and the rate estimates.

#include "moesim/core/config.hpp"
#include "moesim/core/stop_flag.hpp"
#include "moesim/fit/em.hpp"
#include "moesim/model/gaussian_moe.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace moesim::experiments::rates {

/// What one fit of one job reports.
struct FitOutcome {
    std::int64_t iterations = 0; ///< of the winning restart
    double objective = 0.0;      ///< final log-likelihood (or minus the residual sum of squares)
    bool converged = false;
    std::int64_t restart = 0;   ///< which restart won
    std::vector<double> losses; ///< in the order of Family::loss_names()
    /// The same objective at the true parameters on the same sample. A fit that ends below
    /// it has stopped short of the maximiser (a local optimum or a plateau): such fits are
    /// flagged in /estimates/fits/below_truth.
    double truth_objective = 0.0;
};

/// A family of models: the true model and the fitting method, built from the config.
class Family {
public:
    virtual ~Family() = default;
    /// The losses each fit reports; each becomes /estimates/<name>.
    virtual std::vector<std::string> loss_names() const = 0;
    /// Draws job `job_id`'s n samples and fits them. A pure function of (config, seed, job_id,
    /// n), so any rank can run any job. Local. Throws core::NumericalError if the fit fails,
    /// core::Interrupted if `stop` says stop between iterations.
    virtual FitOutcome fit_job(std::uint64_t seed, std::uint32_t job_id, Eigen::Index n,
                               const core::StopCheck& stop) const = 0;
    /// The losses among loss_names() that compare parameters the data cannot identify (their
    /// slopes say nothing about a rate); /estimates/<loss>/identified is 0 for them.
    virtual std::vector<std::string> unidentified_losses() const { return {}; }
    /// Relative cost of a job with n samples, for the schedule.
    virtual double cost(Eigen::Index n) const { return static_cast<double>(n); }
};

/// A registered family: the rates.gate values it fits, its own keys, and its factory.
struct FamilyEntry {
    std::vector<std::string> gates;
    void (*declare)(core::Schema& schema); ///< adds family-only keys (none: a no-op)
    /// Throws core::ConfigError naming the key when the config does not describe a model.
    std::unique_ptr<Family> (*make)(const core::Config& config);
};

/// Every family, in the order of the gate choices.
const std::vector<FamilyEntry>& families();
/// All rates.gate values, over every family.
std::vector<std::string> gate_names();
/// The family that fits `gate`; throws core::InternalError if none does.
const FamilyEntry& family_of(std::string_view gate);

// Readers of the keys every family shares (declared in rates.cpp).

/// Real-array `key` as a k x per_expert matrix (row-major in the config: expert i's values
/// in row i); throws ConfigError naming the key unless it holds exactly k * per_expert values.
Eigen::MatrixXd read_expert_rows(const core::Config& config, const char* key, Eigen::Index k,
                                 Eigen::Index per_expert);

/// The true MoE parameters from rates.{gate_slope, gate_bias, expert_slope, expert_bias,
/// variance}, with k rows of d values; throws ConfigError naming a key of the wrong length.
model::MoeParams true_moe_params(const core::Config& config, Eigen::Index k, Eigen::Index d);
/// Removes the loss `name` from `names` and its value from every `values` given, where it is
/// identically 0 by construction (e.g. bias errors when rates.fit_expert_bias = false, whose
/// log-log slope would be NaN). No-op if absent.
void drop_loss(std::vector<std::string>& names, const std::string& name);
void drop_loss(const std::vector<std::string>& names, const std::string& name,
               std::vector<double>& values);

/// The mean function named by string key `key` (rates.expert_mean, rates.f0_mean), with
/// rates.expert_degree for polynomials.
model::ExpertFunction expert_function(const core::Config& config, const char* key);
/// rates.{tolerance, max_iterations, restarts, init, init_noise, init_noise_exponent,
/// expert_mean, expert_mean_steps, fit_expert_bias}; throws ConfigError naming
/// rates.fit_expert_bias if it is false without a near-truth init.
fit::EmSettings em_settings(const core::Config& config);

} // namespace moesim::experiments::rates
