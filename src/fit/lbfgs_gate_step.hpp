#pragma once
// The L-BFGS gate M-steps of fit/em: the temperature and activation gates always, the
// softmax gate when settings.gate_optimizer is lbfgs (the gate_optimizer names live here
// too). Its own translation unit: any code added to em.cpp, even two small functions, made
// GCC 12 (-O3 -march=native) emit Eigen's AVX-512 log out of line there, where it reports a
// false -Wuninitialized.

#include "moesim/fit/em.hpp"

namespace moesim::fit {

/// If this gate's M-step is an L-BFGS one, runs settings.gate_lbfgs_iterations L-BFGS steps
/// on -Q (each lowers -Q, so Q never decreases), updates params' gate and returns true;
/// otherwise returns false and leaves params alone. Local.
bool lbfgs_gate_step(const model::Gate& gate, const Eigen::MatrixXd& x, const Eigen::MatrixXd& resp,
                     const EmSettings& settings, model::MoeParams& params);

} // namespace moesim::fit
