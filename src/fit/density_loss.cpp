#include "moesim/fit/density_loss.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/fit/gaussian_quadrature.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace moesim::fit {

namespace {

// E g(Z), Z ~ N(0, 1): composite Gauss-Legendre on [-8, 8], panels of width 1 (128 nodes);
// the tails beyond 8 sd carry 1e-15 of the mass.
const QuadratureRule& normal_rule() {
    static const QuadratureRule rule = normal_panel_rule(-8.0, 8.0, {}, 1.0, 8);
    return rule;
}

// E g(T), T ~ Exp(1), as the integral over u in (0, 1) of g(-log(1 - u)): 64-point
// Gauss-Legendre, nodes and weights mapped to (0, 1).
const QuadratureRule& exponential_rule() {
    static const QuadratureRule rule = [] {
        QuadratureRule legendre = gauss_legendre(64);
        QuadratureRule out;
        out.nodes = (-(1.0 - 0.5 * (legendre.nodes.array() + 1.0)).log()).matrix();
        out.weights = 0.5 * legendre.weights;
        return out;
    }();
    return rule;
}

double component_log_density(const DensityComponent& c, double y) {
    const double z = (y - c.location) / c.scale;
    if (c.laplace)
        return -std::log(2.0 * c.scale) - std::abs(z);
    return -0.5 * std::log(2.0 * std::numbers::pi) - std::log(c.scale) - 0.5 * z * z;
}

// integral of component c times (1 - h), h = sech((log p - log q) / 2).
double one_minus_h(const DensityComponent& c, const MixtureAtX& p, const MixtureAtX& q) {
    auto gap = [&](double y) {
        const double diff = mixture_log_density(p, y) - mixture_log_density(q, y);
        if (diff == 0.0)
            return 0.0; // exactly, so identical densities give 0
        if (!std::isfinite(diff))
            return 1.0; // one density is 0 here: h = 0
        return 1.0 - 1.0 / std::cosh(0.5 * diff);
    };
    double sum = 0.0;
    if (!c.laplace) {
        const QuadratureRule& rule = normal_rule();
        for (Eigen::Index j = 0; j < rule.nodes.size(); ++j)
            sum += rule.weights(j) * gap(c.location + c.scale * rule.nodes(j));
        return sum;
    }
    const QuadratureRule& rule = exponential_rule();
    for (Eigen::Index j = 0; j < rule.nodes.size(); ++j) {
        const double t = c.scale * rule.nodes(j);
        sum += 0.5 * rule.weights(j) * (gap(c.location + t) + gap(c.location - t));
    }
    return sum;
}

} // namespace

double mixture_log_density(const MixtureAtX& mixture, double y) {
    double top = -std::numeric_limits<double>::infinity();
    std::vector<double> terms;
    terms.reserve(mixture.size());
    for (const auto& c : mixture) {
        terms.push_back(c.log_weight + component_log_density(c, y));
        top = std::max(top, terms.back());
    }
    if (!std::isfinite(top))
        return top;
    double sum = 0.0;
    for (double t : terms)
        sum += std::exp(t - top);
    return top + std::log(sum);
}

double hellinger_distance(const MixtureAtX& p, const MixtureAtX& q) {
    // integral m (1 - h) over the components of m = p / 2 + q / 2.
    double squared = 0.0;
    for (const MixtureAtX* side : {&p, &q})
        for (const auto& c : *side)
            if (std::isfinite(c.log_weight))
                squared += 0.5 * std::exp(c.log_weight) * one_minus_h(c, p, q);
    return std::sqrt(std::clamp(squared, 0.0, 1.0));
}

std::vector<MixtureAtX> moe_mixtures(const model::Gate& gate, const model::MoeParams& params,
                                     const Eigen::MatrixXd& x, const model::ExpertFunction& mean) {
    const Eigen::MatrixXd log_g = gate.log_weights(params, x);
    Eigen::MatrixXd location = x * params.expert_slope.transpose();
    location.rowwise() += params.expert_bias.transpose();
    std::vector<MixtureAtX> out(static_cast<std::size_t>(x.rows()));
    for (Eigen::Index m = 0; m < x.rows(); ++m)
        for (Eigen::Index i = 0; i < params.experts(); ++i)
            out[static_cast<std::size_t>(m)].push_back(
                {log_g(m, i), false, mean.value(location(m, i)), std::sqrt(params.variance(i))});
    return out;
}

std::vector<MixtureAtX> contaminated_mixtures(model::PromptGate gate,
                                              const model::PretrainedExpert& f0,
                                              const model::ContaminatedParams& params,
                                              const Eigen::MatrixXd& x,
                                              const model::ExpertFunction& prompt_mean) {
    const Eigen::MatrixXd log_w = model::contaminated_log_weights(gate, params, x);
    const Eigen::VectorXd f0_location = (x * f0.slope).array() + f0.bias;
    const Eigen::VectorXd prompt_location = (x * params.prompt_slope).array() + params.prompt_bias;
    const bool laplace = f0.family == model::PretrainedFamily::laplace;
    const double f0_scale = laplace ? f0.scale : std::sqrt(f0.scale);
    std::vector<MixtureAtX> out(static_cast<std::size_t>(x.rows()));
    for (Eigen::Index m = 0; m < x.rows(); ++m)
        out[static_cast<std::size_t>(m)] = {
            {log_w(m, 0), laplace, f0.mean.value(f0_location(m)), f0_scale},
            {log_w(m, 1), false, prompt_mean.value(prompt_location(m)),
             std::sqrt(params.prompt_variance)}};
    return out;
}

double expected_hellinger(const std::vector<MixtureAtX>& p, const std::vector<MixtureAtX>& q) {
    core::require(p.size() == q.size() && !p.empty(), "expected_hellinger: mismatched sets");
    double sum = 0.0;
    for (std::size_t m = 0; m < p.size(); ++m)
        sum += hellinger_distance(p[m], q[m]);
    return sum / static_cast<double>(p.size());
}

double gaussian_hellinger(double mean_p, double variance_p, double mean_q, double variance_q) {
    core::require(variance_p > 0.0 && variance_q > 0.0, "gaussian_hellinger: variances must be > 0");
    const double sum = variance_p + variance_q, gap = mean_p - mean_q;
    // H^2 = 1 - affinity by -expm1(log affinity): accurate for the small distances near the
    // truth, where 1 - affinity would cancel.
    const double log_affinity =
        0.5 * std::log(2.0 * std::sqrt(variance_p * variance_q) / sum) - gap * gap / (4.0 * sum);
    const double squared = -std::expm1(log_affinity);
    return std::sqrt(std::clamp(squared, 0.0, 1.0));
}

double regression_hellinger(const Eigen::VectorXd& mean_p, double variance_p,
                            const Eigen::VectorXd& mean_q, double variance_q) {
    core::require(mean_p.size() == mean_q.size() && mean_p.size() > 0,
                  "regression_hellinger: mismatched sets");
    double sum = 0.0;
    for (Eigen::Index m = 0; m < mean_p.size(); ++m)
        sum += gaussian_hellinger(mean_p(m), variance_p, mean_q(m), variance_q);
    return sum / static_cast<double>(mean_p.size());
}

Eigen::MatrixXd density_evaluation_inputs(std::uint64_t seed, Eigen::Index points, Eigen::Index d,
                                          double x_scale) {
    const core::Philox rng(seed, "rates.density.x");
    return model::draw_inputs(rng, 0, points, d, x_scale);
}

} // namespace moesim::fit
