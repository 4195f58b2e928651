#include "moesim/fit/population_em.hpp"

#include "moesim/core/error.hpp"
#include "moesim/fit/gaussian_quadrature.hpp"
#include "moesim/fit/isotropic_mixture_em.hpp"

#include <Eigen/LU>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <numbers>

namespace moesim::fit {

namespace {

// Composite rules cover [-normal_range, normal_range] standard deviations: the normal mass
// outside is 2e-19.
constexpr double normal_range = 9.0;

// The span S of the centred true means and start, and coordinates in an orthonormal basis.
struct Span {
    Eigen::RowVectorXd centre; // mu_bar
    Eigen::MatrixXd basis;     // d x r, orthonormal columns
    Eigen::MatrixXd truth;     // K x r: coordinates of mu_k - mu_bar
    Eigen::MatrixXd start;     // J x r: coordinates of m_j - mu_bar

    Eigen::MatrixXd to_data(const Eigen::MatrixXd& coords) const {
        return (coords * basis.transpose()).rowwise() + centre;
    }
};

Span span_of(const model::GaussianMixture& truth, const Eigen::MatrixXd& start) {
    truth.check();
    core::require(start.rows() >= 1 && start.cols() == truth.dim() && start.allFinite(),
                  "population fixed point: the start must be J x d and finite");
    Span span;
    span.centre = truth.centre();
    Eigen::MatrixXd deviations(truth.components() + start.rows(), truth.dim());
    deviations << truth.means.rowwise() - span.centre, start.rowwise() - span.centre;
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(deviations, Eigen::ComputeThinV);
    const Eigen::VectorXd& singular = svd.singularValues();
    const double scale = std::max(singular.size() > 0 ? singular(0) : 0.0, truth.sigma);
    Eigen::Index r = 0;
    while (r < singular.size() && singular(r) > 1e-12 * scale)
        ++r;
    span.basis = svd.matrixV().leftCols(r);
    span.truth = (truth.means.rowwise() - span.centre) * span.basis;
    span.start = (start.rowwise() - span.centre) * span.basis;
    return span;
}

// The tensor product of `rule` over `dims` coordinates: points (G x dims) and weights (G).
void tensor_rule(const QuadratureRule& rule, Eigen::Index dims, Eigen::MatrixXd& points,
                 Eigen::VectorXd& weights) {
    const Eigen::Index q = rule.nodes.size();
    Eigen::Index count = 1;
    for (Eigen::Index i = 0; i < dims; ++i)
        count *= q;
    points.resize(count, dims);
    weights.resize(count);
    for (Eigen::Index g = 0; g < count; ++g) {
        double w = 1.0;
        Eigen::Index rest = g;
        for (Eigen::Index i = 0; i < dims; ++i) {
            points(g, i) = rule.nodes(rest % q);
            w *= rule.weights(rest % q);
            rest /= q;
        }
        weights(g) = w;
    }
}

// Phi(beta) - Phi(alpha) for alpha <= beta, from the tail that keeps its digits.
double normal_mass(double alpha, double beta) {
    constexpr double s = std::numbers::sqrt2;
    if (alpha > 0.0)
        return 0.5 * (std::erfc(alpha / s) - std::erfc(beta / s));
    return 0.5 * (std::erfc(-beta / s) - std::erfc(-alpha / s));
}

double normal_density(double z) {
    return std::isfinite(z) ? std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi) : 0.0;
}

// An orthonormal r x r basis whose last column is the direction farthest (in the worst case)
// from lying in a cell boundary, i.e. maximising min over pairs |v . n_jl| of the unit
// boundary normals n_jl ~ b_l - b_j. Candidates: the coordinate axes, the normals, and the
// normalised sums and differences of two normals.
Eigen::MatrixXd inner_direction_basis(const Eigen::MatrixXd& centres) {
    const Eigen::Index r = centres.cols(), j_count = centres.rows();
    std::vector<Eigen::VectorXd> normals;
    for (Eigen::Index j = 0; j < j_count; ++j)
        for (Eigen::Index l = j + 1; l < j_count; ++l) {
            const Eigen::VectorXd n = (centres.row(l) - centres.row(j)).transpose();
            if (n.norm() > 0.0)
                normals.push_back(n.normalized());
        }
    std::vector<Eigen::VectorXd> candidates;
    for (Eigen::Index i = 0; i < r; ++i)
        candidates.push_back(Eigen::VectorXd::Unit(r, i));
    for (std::size_t a = 0; a < normals.size(); ++a) {
        candidates.push_back(normals[a]);
        for (std::size_t b = a + 1; b < normals.size(); ++b)
            for (double sign : {1.0, -1.0}) {
                const Eigen::VectorXd v = normals[a] + sign * normals[b];
                if (v.norm() > 1e-8)
                    candidates.push_back(v.normalized());
            }
    }
    Eigen::VectorXd best = candidates.front();
    double best_score = -1.0;
    for (const auto& v : candidates) {
        double score = std::numeric_limits<double>::infinity();
        for (const auto& n : normals)
            score = std::min(score, std::abs(v.dot(n)));
        if (score > best_score) {
            best_score = score;
            best = v;
        }
    }
    Eigen::MatrixXd frame(r, r + 1);
    frame << best, Eigen::MatrixXd::Identity(r, r);
    const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(frame).householderQ();
    Eigen::MatrixXd basis(r, r);
    basis.leftCols(r - 1) = q.rightCols(r - 1);
    basis.col(r - 1) =
        q.col(0).dot(best) < 0.0 ? Eigen::VectorXd(-q.col(0)) : Eigen::VectorXd(q.col(0));
    return basis;
}

// One population hard-assignment step in span coordinates: truth (K x r), weights pi,
// centres b (J x r) -> the cells' conditional means.
// Where, along the outer coordinate of a 2-D span, the cell intervals change their active
// constraints: the outer coordinates of the points equidistant from three centres.
std::vector<double> triple_points(const Eigen::MatrixXd& b) {
    std::vector<double> out;
    const Eigen::Index j_count = b.rows();
    for (Eigen::Index j = 0; j < j_count; ++j)
        for (Eigen::Index l = j + 1; l < j_count; ++l)
            for (Eigen::Index m = l + 1; m < j_count; ++m) {
                Eigen::Matrix2d a;
                a << 2.0 * (b.row(l) - b.row(j)), 2.0 * (b.row(m) - b.row(j));
                const Eigen::Vector2d rhs(b.row(l).squaredNorm() - b.row(j).squaredNorm(),
                                          b.row(m).squaredNorm() - b.row(j).squaredNorm());
                if (std::abs(a.determinant()) > 1e-14 * (a.squaredNorm() + 1e-300))
                    out.push_back(a.partialPivLu().solve(rhs)(0));
            }
    return out;
}

Eigen::MatrixXd hard_step(const Eigen::MatrixXd& truth, const Eigen::VectorXd& pi, double sigma,
                          const Eigen::MatrixXd& centres, const PopulationSettings& settings) {
    const Eigen::Index r = truth.cols(), k_true = truth.rows(), j_count = centres.rows();
    const Eigen::MatrixXd rotation = inner_direction_basis(centres);
    const Eigen::MatrixXd a = truth * rotation, b = centres * rotation;
    const Eigen::VectorXd b_norm2 = b.rowwise().squaredNorm();
    // Outer coordinates: none for dim S = 1; a composite rule cut at the triple points for
    // dim S = 2 (the outer integrand is smooth between them); tensor Gauss-Hermite beyond.
    Eigen::MatrixXd outer_points;
    Eigen::VectorXd outer_weights;
    if (r != 2)
        tensor_rule(standard_normal_rule(settings.nodes), r - 1, outer_points, outer_weights);
    const std::vector<double> kinks = r == 2 ? triple_points(b) : std::vector<double>{};
    Eigen::VectorXd mass = Eigen::VectorXd::Zero(j_count);
    Eigen::MatrixXd first = Eigen::MatrixXd::Zero(j_count, r);
    const Eigen::Index last = r - 1;
    Eigen::VectorXd outer(r - 1);
    for (Eigen::Index k = 0; k < k_true; ++k) {
        if (r == 2) {
            std::vector<double> cuts;
            for (double o : kinks)
                cuts.push_back((o - a(k, 0)) / sigma);
            const QuadratureRule rule =
                normal_panel_rule(-normal_range, normal_range, cuts, settings.panel_width);
            outer_points = rule.nodes;
            outer_weights = rule.weights;
        }
        for (Eigen::Index g = 0; g < outer_points.rows(); ++g) {
            const double weight = pi(k) * outer_weights(g);
            for (Eigen::Index i = 0; i < last; ++i)
                outer(i) = a(k, i) + sigma * outer_points(g, i);
            for (Eigen::Index j = 0; j < j_count; ++j) {
                // Cell j on this line: 2 t (b_l - b_j)_last <= |b_l|^2 - |b_j|^2
                //                                            - 2 outer . (b_l - b_j)_outer.
                double lo = -std::numeric_limits<double>::infinity();
                double hi = std::numeric_limits<double>::infinity();
                bool empty = false;
                for (Eigen::Index l = 0; l < j_count && !empty; ++l) {
                    if (l == j)
                        continue;
                    const double coef = 2.0 * (b(l, last) - b(j, last));
                    double rhs = b_norm2(l) - b_norm2(j);
                    for (Eigen::Index i = 0; i < last; ++i)
                        rhs -= 2.0 * outer(i) * (b(l, i) - b(j, i));
                    if (coef > 0.0)
                        hi = std::min(hi, rhs / coef);
                    else if (coef < 0.0)
                        lo = std::max(lo, rhs / coef);
                    else
                        empty = rhs < 0.0;
                }
                if (empty || !(lo < hi))
                    continue;
                const double alpha = (lo - a(k, last)) / sigma, beta = (hi - a(k, last)) / sigma;
                const double p = normal_mass(alpha, beta);
                mass(j) += weight * p;
                for (Eigen::Index i = 0; i < last; ++i)
                    first(j, i) += weight * p * outer(i);
                first(j, last) += weight * (a(k, last) * p +
                                            sigma * (normal_density(alpha) - normal_density(beta)));
            }
        }
    }
    Eigen::MatrixXd moved = b;
    for (Eigen::Index j = 0; j < j_count; ++j)
        if (mass(j) > 0.0)
            moved.row(j) = first.row(j) / mass(j);
    return moved * rotation.transpose();
}

} // namespace

PopulationFixedPoint population_em_fixed_point(const model::GaussianMixture& truth,
                                               const Eigen::MatrixXd& start,
                                               const Eigen::VectorXd& start_weights,
                                               const PopulationSettings& settings) {
    const Span span = span_of(truth, start);
    const Eigen::Index r = span.basis.cols(), k_true = truth.components();
    PopulationFixedPoint out;
    out.span_dim = r;
    if (r == 0) { // every mean and start at the centre: a fixed point already
        out.means = span.to_data(Eigen::MatrixXd::Zero(start.rows(), 0));
        out.weights = start_weights;
        out.converged = true;
        return out;
    }
    Eigen::MatrixXd grid;
    Eigen::VectorXd grid_weights;
    if (r == 1) {
        const QuadratureRule line =
            normal_panel_rule(-normal_range, normal_range, {}, settings.panel_width);
        grid = line.nodes;
        grid_weights = line.weights;
    } else {
        double points = double(k_true);
        for (Eigen::Index i = 0; i < r; ++i)
            points *= double(settings.nodes);
        if (points > double(settings.max_points))
            throw core::InternalError(fmt::format("population_em_fixed_point: {} components x "
                                                  "{}^{} nodes exceed the cap of {} points",
                                                  k_true, settings.nodes, r, settings.max_points));
        tensor_rule(standard_normal_rule(settings.nodes), r, grid, grid_weights);
    }
    const Eigen::Index g_count = grid.rows();
    Eigen::MatrixXd x(k_true * g_count, r);
    Eigen::VectorXd s(k_true * g_count);
    for (Eigen::Index k = 0; k < k_true; ++k) {
        x.middleRows(k * g_count, g_count) = (truth.sigma * grid).rowwise() + span.truth.row(k);
        s.segment(k * g_count, g_count) = truth.weights(k) * grid_weights;
    }
    IsotropicEmSettings em;
    em.variance = settings.variance;
    em.estimate_weights = settings.estimate_weights;
    em.tolerance = settings.tolerance;
    em.max_iterations = settings.max_iterations;
    const IsotropicEmResult fit = fit_isotropic_mixture(x, span.start, start_weights, em, s);
    out.means = span.to_data(fit.means);
    out.weights = fit.weights;
    out.iterations = fit.iterations;
    out.converged = fit.converged;
    return out;
}

PopulationFixedPoint population_hard_fixed_point(const model::GaussianMixture& truth,
                                                 const Eigen::MatrixXd& start,
                                                 const PopulationSettings& settings) {
    const Span span = span_of(truth, start);
    const Eigen::Index r = span.basis.cols();
    PopulationFixedPoint out;
    out.span_dim = r;
    Eigen::MatrixXd centres = span.start;
    if (r == 0) {
        out.means = span.to_data(centres);
        out.converged = true;
        return out;
    }
    core::require(settings.max_iterations >= 1, "population_hard_fixed_point: max_iterations");
    while (out.iterations < settings.max_iterations) {
        const Eigen::MatrixXd moved =
            hard_step(span.truth, truth.weights, truth.sigma, centres, settings);
        const double shift = (moved - centres).squaredNorm();
        centres = moved;
        ++out.iterations;
        if (shift <= settings.tolerance) {
            out.converged = true;
            break;
        }
    }
    out.means = span.to_data(centres);
    return out;
}

} // namespace moesim::fit
