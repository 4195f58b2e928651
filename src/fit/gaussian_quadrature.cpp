#include "moesim/fit/gaussian_quadrature.hpp"

#include "moesim/core/error.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace moesim::fit {

namespace {

// Orthonormal Hermite functions' polynomial parts for the weight exp(-t^2):
// p_0 = pi^(-1/4), p_1 = sqrt(2) t p_0, p_{j+1} = sqrt(2/(j+1)) t p_j - sqrt(j/(j+1)) p_{j-1}.
// Returns p_q(t) and p_{q-1}(t), and adds sum_{j<q} p_j(t)^2 to `squares`.
struct Hermite {
    double p_q, p_q_minus_1, squares;
};

Hermite orthonormal_hermite(Eigen::Index q, double t) {
    double previous = 0.0, current = std::pow(std::numbers::pi, -0.25);
    double squares = 0.0;
    for (Eigen::Index j = 0; j < q; ++j) {
        squares += current * current;
        const double next = std::sqrt(2.0 / double(j + 1)) * t * current -
                            std::sqrt(double(j) / double(j + 1)) * previous;
        previous = current;
        current = next;
    }
    return {current, previous, squares};
}

} // namespace

QuadratureRule gauss_hermite(Eigen::Index q) {
    core::require(q >= 1 && q <= 400, "gauss_hermite: needs 1 <= q <= 400");
    // Jacobi matrix of the monic Hermite recurrence: zero diagonal, off-diagonal sqrt(j/2).
    Eigen::VectorXd diagonal = Eigen::VectorXd::Zero(q), off(std::max<Eigen::Index>(q - 1, 0));
    for (Eigen::Index j = 1; j < q; ++j)
        off(j - 1) = std::sqrt(double(j) / 2.0);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver;
    solver.computeFromTridiagonal(diagonal, off, Eigen::EigenvaluesOnly);
    core::require(solver.info() == Eigen::Success, "gauss_hermite: eigenvalues did not converge");
    QuadratureRule rule{solver.eigenvalues(), Eigen::VectorXd(q)};
    for (Eigen::Index i = 0; i < q; ++i) {
        double t = rule.nodes(i);
        // p_q' = sqrt(2q) p_{q-1}: Newton on p_q from the eigenvalue's few-ulp error.
        for (int step = 0; step < 3; ++step) {
            const Hermite h = orthonormal_hermite(q, t);
            if (h.p_q_minus_1 == 0.0)
                break;
            t -= h.p_q / (std::sqrt(2.0 * double(q)) * h.p_q_minus_1);
        }
        rule.nodes(i) = t;
    }
    // Symmetrise: t_i = -t_{q-1-i} exactly, the middle node of odd q exactly 0.
    rule.nodes = (0.5 * (rule.nodes - rule.nodes.reverse())).eval();
    for (Eigen::Index i = 0; i < q; ++i)
        rule.weights(i) = 1.0 / orthonormal_hermite(q, rule.nodes(i)).squares;
    return rule;
}

QuadratureRule standard_normal_rule(Eigen::Index q) {
    QuadratureRule rule = gauss_hermite(q);
    rule.nodes *= std::numbers::sqrt2;
    rule.weights /= std::sqrt(std::numbers::pi);
    return rule;
}

QuadratureRule gauss_legendre(Eigen::Index q) {
    core::require(q >= 1 && q <= 400, "gauss_legendre: needs 1 <= q <= 400");
    // Jacobi matrix of the monic Legendre recurrence: off-diagonal j / sqrt(4 j^2 - 1).
    Eigen::VectorXd diagonal = Eigen::VectorXd::Zero(q), off(std::max<Eigen::Index>(q - 1, 0));
    for (Eigen::Index j = 1; j < q; ++j)
        off(j - 1) = double(j) / std::sqrt(4.0 * double(j) * double(j) - 1.0);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver;
    solver.computeFromTridiagonal(diagonal, off, Eigen::EigenvaluesOnly);
    core::require(solver.info() == Eigen::Success, "gauss_legendre: eigenvalues did not converge");
    QuadratureRule rule{solver.eigenvalues(), Eigen::VectorXd(q)};
    for (Eigen::Index i = 0; i < q; ++i) {
        double t = rule.nodes(i), derivative = 1.0;
        for (int step = 0; step < 4; ++step) {
            // P_q(t) by the three-term recurrence, P_q' = q (t P_q - P_{q-1}) / (t^2 - 1).
            double previous = 1.0, current = t;
            for (Eigen::Index j = 1; j < q; ++j) {
                const double next =
                    (double(2 * j + 1) * t * current - double(j) * previous) / double(j + 1);
                previous = current;
                current = next;
            }
            derivative = double(q) * (t * current - previous) / (t * t - 1.0);
            t -= current / derivative;
        }
        rule.nodes(i) = t;
        rule.weights(i) = 2.0 / ((1.0 - t * t) * derivative * derivative);
    }
    rule.nodes = (0.5 * (rule.nodes - rule.nodes.reverse())).eval();
    rule.weights = (0.5 * (rule.weights + rule.weights.reverse())).eval();
    return rule;
}

QuadratureRule normal_panel_rule(double lo, double hi, const std::vector<double>& breakpoints,
                                 double max_width, Eigen::Index order) {
    core::require(std::isfinite(lo) && std::isfinite(hi) && lo < hi && max_width > 0.0,
                  "normal_panel_rule: needs finite lo < hi and max_width > 0");
    const QuadratureRule panel = gauss_legendre(order);
    std::vector<double> cuts{lo};
    for (double b : breakpoints)
        if (b > lo && b < hi)
            cuts.push_back(b);
    cuts.push_back(hi);
    std::sort(cuts.begin(), cuts.end());
    std::vector<double> nodes, weights;
    for (std::size_t s = 0; s + 1 < cuts.size(); ++s) {
        const double width = cuts[s + 1] - cuts[s];
        if (!(width > 0.0))
            continue;
        const auto panels = static_cast<Eigen::Index>(std::ceil(width / max_width));
        const double h = width / double(panels);
        for (Eigen::Index p = 0; p < panels; ++p) {
            const double mid = cuts[s] + (double(p) + 0.5) * h;
            for (Eigen::Index i = 0; i < order; ++i) {
                const double z = mid + 0.5 * h * panel.nodes(i);
                nodes.push_back(z);
                weights.push_back(0.5 * h * panel.weights(i) * std::exp(-0.5 * z * z) /
                                  std::sqrt(2.0 * std::numbers::pi));
            }
        }
    }
    return {Eigen::Map<const Eigen::VectorXd>(nodes.data(), Eigen::Index(nodes.size())),
            Eigen::Map<const Eigen::VectorXd>(weights.data(), Eigen::Index(weights.size()))};
}

} // namespace moesim::fit
