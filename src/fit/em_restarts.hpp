#pragma once
// The EM driver every likelihood fit shares: from each of settings.restarts inits, alternate
// M- and E-steps until the log-likelihood's relative change is within settings.tolerance or
// settings.max_iterations is reached, and keep the restart with the highest log-likelihood
// (the first on ties). Private to fit/: fit_em and fit_contaminated_em.

#include "moesim/core/error.hpp"
#include "moesim/core/stop_flag.hpp"
#include "moesim/fit/em.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace moesim::fit::impl {

/// Result: a struct with params, restart, iterations, log_likelihood, converged and trace
/// (EmResult, ContaminatedEmResult). init(restart) returns the start; e_step(params) returns
/// the log-likelihood and keeps the responsibilities m_step(params) then uses. Throws
/// NumericalError naming `what` if the log-likelihood becomes NaN or infinite.
template <class Result, class Init, class EStep, class MStep>
Result best_of_restarts(const EmSettings& settings, const char* what, Init init, EStep e_step,
                        MStep m_step) {
    Result best;
    best.log_likelihood = -std::numeric_limits<double>::infinity();
    for (std::int64_t restart = 0; restart < std::max<std::int64_t>(1, settings.restarts);
         ++restart) {
        Result run;
        run.restart = restart;
        run.params = init(static_cast<std::uint32_t>(restart));
        double loglik = e_step(run.params);
        run.trace.push_back(loglik);
        for (std::int64_t iteration = 1; iteration <= settings.max_iterations; ++iteration) {
            core::throw_if_stopped(settings.stop);
            m_step(run.params);
            const double next = e_step(run.params);
            if (!std::isfinite(next))
                throw core::NumericalError(what, static_cast<long long>(iteration), next,
                                           core::Scope::local);
            run.trace.push_back(next);
            run.iterations = iteration;
            const bool done =
                std::abs(next - loglik) <= settings.tolerance * std::max(1.0, std::abs(next));
            loglik = next;
            if (done) {
                run.converged = true;
                break;
            }
        }
        run.log_likelihood = loglik;
        if (run.log_likelihood > best.log_likelihood)
            best = std::move(run);
    }
    return best;
}

} // namespace moesim::fit::impl
