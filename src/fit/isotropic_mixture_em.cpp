#include "moesim/fit/isotropic_mixture_em.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace moesim::fit {

namespace {

// A block's coordinates, logits and responsibilities stay in L1/L2 across the E- and M-step.
constexpr Eigen::Index block_rows = 256;

// One pass over the samples at (means, weights): the log-likelihood if asked, and, if `mass`
// is set, the M-step sums mass(k) = sum_n s_n r_nk and first(k, j) = sum_n s_n r_nk x_nj.
// The log-sum-exp is written out (as model/row_exp.hpp does it, column by column) so that its
// buffers live across blocks and the row logarithms are only taken when the likelihood is
// wanted; components of weight 0 get responsibility exactly 0.
class EmPass {
public:
    EmPass(const Eigen::MatrixXd& x, const Eigen::VectorXd& sample_weights, Eigen::Index k)
        : x_(x), s_(sample_weights), block_(std::min(block_rows, x.rows()), k), max_(block_.rows()),
          sum_(block_.rows()) {}

    double run(const Eigen::MatrixXd& means, const Eigen::VectorXd& weights, double variance,
               bool with_log_likelihood, Eigen::VectorXd* mass, Eigen::MatrixXd* first) {
        const Eigen::Index n = x_.rows(), d = x_.cols(), k = means.rows();
        const double half_precision = 0.5 / variance;
        const Eigen::ArrayXd log_w = weights.array().log();
        std::vector<Eigen::Index> live; // components of positive weight
        for (Eigen::Index c = 0; c < k; ++c)
            if (weights(c) > 0.0)
                live.push_back(c);
        if (mass != nullptr) {
            mass->setZero(k);
            first->setZero(k, d);
        }
        double total = 0.0, sample_mass = 0.0;
        for (Eigen::Index begin = 0; begin < n; begin += block_rows) {
            const Eigen::Index len = std::min(block_rows, n - begin);
            auto max = max_.head(len);
            auto sum = sum_.head(len);
            for (std::size_t i = 0; i < live.size(); ++i) {
                const Eigen::Index c = live[i];
                auto column = block_.col(c).head(len).array();
                column = (x_.col(0).segment(begin, len).array() - means(c, 0)).square();
                for (Eigen::Index j = 1; j < d; ++j)
                    column += (x_.col(j).segment(begin, len).array() - means(c, j)).square();
                column = log_w(c) - half_precision * column;
                if (i == 0)
                    max = column;
                else
                    max = max.max(column);
            }
            for (std::size_t i = 0; i < live.size(); ++i) {
                auto column = block_.col(live[i]).head(len).array();
                column = (column - max).exp();
                if (i == 0)
                    sum = column;
                else
                    sum += column;
            }
            if (with_log_likelihood) {
                if (s_.size() > 0) {
                    const auto s = s_.segment(begin, len).array();
                    total += (s * (max + sum.log())).sum();
                    sample_mass += s.sum();
                } else {
                    total += (max + sum.log()).sum();
                    sample_mass += double(len);
                }
            }
            if (mass == nullptr)
                continue;
            sum = sum.inverse();
            if (s_.size() > 0)
                sum *= s_.segment(begin, len).array();
            for (const Eigen::Index c : live) {
                auto r = block_.col(c).head(len).array();
                r *= sum;
                (*mass)(c) += r.sum();
                for (Eigen::Index j = 0; j < d; ++j)
                    (*first)(c, j) += (r * x_.col(j).segment(begin, len).array()).sum();
            }
        }
        if (!with_log_likelihood)
            return 0.0;
        return total - sample_mass * 0.5 * double(d) * std::log(2.0 * std::numbers::pi * variance);
    }

private:
    const Eigen::MatrixXd& x_;
    const Eigen::VectorXd& s_;
    Eigen::MatrixXd block_; // logits, then responsibilities, of one block of rows
    Eigen::ArrayXd max_, sum_;
};

void check_inputs(const Eigen::MatrixXd& x, const Eigen::MatrixXd& means,
                  const Eigen::VectorXd& weights, double variance,
                  const Eigen::VectorXd& sample_weights) {
    core::require(x.rows() >= 1 && x.cols() >= 1 && means.rows() >= 1 && means.cols() == x.cols() &&
                      weights.size() == means.rows(),
                  "isotropic mixture: needs n x d data, k x d means and k weights");
    core::require((weights.array() >= 0.0).all() && std::abs(weights.sum() - 1.0) <= 1e-9,
                  "isotropic mixture: weights must be >= 0 and sum to 1");
    core::require(variance > 0.0 && std::isfinite(variance),
                  "isotropic mixture: the variance must be > 0");
    core::require(sample_weights.size() == 0 ||
                      (sample_weights.size() == x.rows() && (sample_weights.array() >= 0.0).all()),
                  "isotropic mixture: sample weights must be n nonnegative values");
}

} // namespace

double isotropic_mixture_log_likelihood(const Eigen::MatrixXd& x, const Eigen::MatrixXd& means,
                                        const Eigen::VectorXd& weights, double variance,
                                        const Eigen::VectorXd& sample_weights) {
    check_inputs(x, means, weights, variance, sample_weights);
    EmPass pass(x, sample_weights, means.rows());
    return pass.run(means, weights, variance, true, nullptr, nullptr);
}

IsotropicEmResult fit_isotropic_mixture(const Eigen::MatrixXd& x,
                                        const Eigen::MatrixXd& initial_means,
                                        const Eigen::VectorXd& initial_weights,
                                        const IsotropicEmSettings& settings,
                                        const Eigen::VectorXd& sample_weights) {
    check_inputs(x, initial_means, initial_weights, settings.variance, sample_weights);
    core::require(settings.max_iterations >= 1, "fit_isotropic_mixture: max_iterations >= 1");
    const Eigen::Index k = initial_means.rows();
    IsotropicEmResult out{initial_means, initial_weights, 0, false, 0.0};
    EmPass pass(x, sample_weights, k);
    Eigen::VectorXd mass;
    Eigen::MatrixXd first;
    while (out.iterations < settings.max_iterations) {
        // The likelihood is not needed to iterate (the stopping rule is on the means).
        pass.run(out.means, out.weights, settings.variance, false, &mass, &first);
        if (!first.allFinite())
            throw core::NumericalError("isotropic mixture M-step sums", out.iterations, first.sum(),
                                       core::Scope::local);
        double shift = 0.0;
        for (Eigen::Index c = 0; c < k; ++c) {
            if (!(mass(c) > 0.0))
                continue;
            const Eigen::RowVectorXd moved = first.row(c) / mass(c);
            shift += (moved - out.means.row(c)).squaredNorm();
            out.means.row(c) = moved;
        }
        if (settings.estimate_weights)
            out.weights = mass / mass.sum();
        ++out.iterations;
        if (shift <= settings.tolerance) {
            out.converged = true;
            break;
        }
    }
    out.log_likelihood =
        pass.run(out.means, out.weights, settings.variance, true, nullptr, nullptr);
    if (!std::isfinite(out.log_likelihood))
        throw core::NumericalError("isotropic mixture log-likelihood", out.iterations,
                                   out.log_likelihood, core::Scope::local);
    return out;
}

} // namespace moesim::fit
