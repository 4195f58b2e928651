#pragma once
// The gate M-step objective of the temperature and activation gates (model/tempered_gate.hpp)
// with its analytic gradient: Q(theta) = sum_n sum_i r_ni log G_i(x_n), over the free
// parameters theta = ((beta0_i, beta1_i) for i < k-1, log tau). The last expert's gate is
// fixed at 0 (a gauge for the temperature gate, a model restriction for the activation gate)
// and tau enters through its logarithm so every theta is a valid model. EM maximises Q by
// L-BFGS (fit/lbfgs.hpp). Users: fit/em; public for the finite-difference tests.

#include "moesim/model/tempered_gate.hpp"

#include <Eigen/Core>

namespace moesim::fit {

struct TemperedGateObjective {
    double value = 0.0;
    Eigen::VectorXd gradient; ///< (k-1)(d+1) + 1, packed as theta
};

/// theta of `params`: (beta0_i, beta1_i) for i < k-1, then log tau (the last row is ignored).
Eigen::VectorXd pack_tempered_gate(const model::MoeParams& params);
/// Writes theta back (rows 0..k-2 and the temperature) and sets the last expert's gate to 0.
void unpack_tempered_gate(const Eigen::VectorXd& packed, model::MoeParams& params);

/// Q and dQ/dtheta at `params` for weights `resp` (n x k, nonnegative). With
/// g_ni = r_ni - (sum_l r_nl) G_i(x_n) and z_ni the logits:
/// dQ/dbeta0_i = sum_n g_ni / tau, dQ/dbeta1_i = sum_n g_ni h'(beta1_i'x_n) x_n / tau,
/// dQ/dlog tau = -sum_n sum_i g_ni z_ni. Local.
TemperedGateObjective tempered_gate_objective(const model::TemperedGate& gate,
                                              const Eigen::MatrixXd& x, const Eigen::MatrixXd& resp,
                                              const model::MoeParams& params);

} // namespace moesim::fit
