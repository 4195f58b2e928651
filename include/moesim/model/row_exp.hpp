#pragma once
// Row-wise max and shifted exponentials of an n x k matrix of log values (n samples, a few
// experts), computed column by column: each operation then runs over n contiguous values and
// vectorises, which row-wise reductions over a column-major matrix do not.
// Users: the softmax-type gates (model/gaussian_moe, model/tempered_gate), the log-densities
// and E-steps of fit/em and the contaminated model.

#include <Eigen/Core>

namespace moesim::model {

/// Row maxima of `values` (n x k, k >= 1). Local.
Eigen::ArrayXd row_max(const Eigen::MatrixXd& values);

/// Turns finite logits into log-softmax weights in place: each row minus its log-sum-exp.
/// Local.
void log_softmax_rows(Eigen::MatrixXd& logits);

/// Each row's max and sum of exp(value - max).
struct ShiftedExp {
    Eigen::ArrayXd max;
    Eigen::ArrayXd sum;
};

/// Replaces every entry by exp(entry - its row's max) and returns the rows' maxima and sums;
/// the row log-sum-exp is max + log(sum). Entries of -inf (experts a gate switches off)
/// become exactly 0: Eigen's vectorised exp clamps -inf to about 1e-308, and its select does
/// not vectorise, so the exp is taken first and the -inf entries are zeroed after. Local.
ShiftedExp exponentiate_rows(Eigen::MatrixXd& values);

} // namespace moesim::model
