#pragma once
// Gaussian quadrature rules: Gauss-Hermite (q nodes integrating f(t) exp(-t^2) exactly for
// polynomials f of degree <= 2q - 1) and its rescaling to expectations under N(0, 1), and
// Gauss-Legendre with a composite rule for N(0, 1) expectations of integrands with sharp
// features or kinks at known places. Users: fit/population_em (the n -> infinity EM and
// hard-assignment maps of the misspec experiment, integrated over the span of the means).

#include <Eigen/Core>

#include <vector>

namespace moesim::fit {

/// Nodes in increasing order and their positive weights.
struct QuadratureRule {
    Eigen::VectorXd nodes;
    Eigen::VectorXd weights;
};

/// The q-point Gauss-Hermite rule for the weight exp(-t^2): nodes from the eigenvalues of the
/// Jacobi matrix (Golub & Welsch 1969), each polished by Newton steps on the orthonormal
/// Hermite recurrence, weights 1 / sum_{j<q} p_j(t_i)^2 with p_j orthonormal (accurate also
/// where they are tiny); nodes symmetric about 0 to rounding. Local. Throws InternalError
/// unless 1 <= q <= 400 (beyond, the recurrence overflows at the outer nodes).
QuadratureRule gauss_hermite(Eigen::Index q);

/// The same rule for E f(Z), Z ~ N(0, 1): nodes sqrt(2) t_i, weights w_i / sqrt(pi) (summing
/// to 1). Local.
QuadratureRule standard_normal_rule(Eigen::Index q);

/// The q-point Gauss-Legendre rule on [-1, 1] (weight 1), exact for degree <= 2q - 1, by
/// Golub-Welsch with Newton polishing on the Legendre recurrence. Local. Throws InternalError
/// unless 1 <= q <= 400.
QuadratureRule gauss_legendre(Eigen::Index q);

/// A composite rule for E f(Z) 1{lo < Z < hi}, Z ~ N(0, 1): [lo, hi] is cut at the given
/// `breakpoints` (those inside), each piece into equal panels no wider than `max_width`, each
/// panel carrying the `order`-point Gauss-Legendre rule times the normal density. Spectrally
/// accurate for integrands smooth between breakpoints on the panel scale, unlike
/// Gauss-Hermite, whose node spacing (about pi / sqrt(2q)) cannot resolve a feature narrower
/// than that. Local. Throws InternalError unless lo < hi are finite, max_width > 0 and
/// 1 <= order <= 400.
QuadratureRule normal_panel_rule(double lo, double hi, const std::vector<double>& breakpoints,
                                 double max_width, Eigen::Index order = 8);

} // namespace moesim::fit
