#pragma once
// The online K-means router (arXiv 2605.12476): each expert keeps a centroid, the running
// mean of the hidden states routed to it; a token goes to the k experts of highest cosine
// similarity to it (ties to the lower id), each with gate 1/k. It has no trained parameters:
// the loss never moves the routing, only the states routed do. Two update rules (config):
//  - cumulative: the exact running mean, m_e = (sum of every state ever routed to e) / n_e,
//    kept in batch form m_e <- m_e + (sum_b x - n_b m_e) / (n_e + n_b), n_e <- n_e + n_b;
//    before the first state arrives m_e is its initial value;
//  - ema: m_e <- m_e + rate * (mean_b x - m_e) for experts that got n_b > 0 states (an
//    exponential moving average that forgets old states at `rate` per step).
// Users: the routing experiment, tests.

#include "moesim/model/router.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moesim::model {

enum class KMeansRule { cumulative, ema };

/// "cumulative" or "ema"; throws core::InternalError otherwise.
KMeansRule parse_kmeans_rule(const std::string& name);

class KMeansRouter final : public Router {
public:
    /// Zero centroids and counts. Throws core::InternalError unless 1 <= k <= n_experts and
    /// 0 < rate <= 1 (rate is read by the ema rule only).
    KMeansRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k, KMeansRule rule,
                 double rate);

    std::int64_t n_experts() const noexcept override { return centroids_.rows(); }
    Eigen::Index top_k() const noexcept override { return k_; }
    Eigen::Index dim() const noexcept override { return centroids_.cols(); }
    /// None: the centroids are state, not parameters.
    std::span<double> parameters() noexcept override { return {}; }
    std::span<const double> parameters() const noexcept override { return {}; }
    Routing route(const RowMatrix& inputs) const override;
    std::vector<double> gradient(const RowMatrix& inputs, const Routing& routing,
                                 const RowMatrix& dgate) const override;
    /// Zero: the gates are constants.
    RowMatrix input_gradient(const RowMatrix& inputs, const Routing& routing,
                             const RowMatrix& dgate) const override;

    /// The update of `rule` from a whole batch (every rank passes the same rows), routed
    /// `block` rows at a time in row order as the layer routes them, so every rank gets the
    /// same bits at any rank count. Each of a token's k slots counts as one routed state.
    /// Local.
    void update(const RowMatrix& batch, Eigen::Index block);

    /// One centroid per expert, row-major (n_experts x dim).
    RowMatrix& centroids() noexcept { return centroids_; }
    const RowMatrix& centroids() const noexcept { return centroids_; }
    /// States routed to each expert so far (the cumulative rule's n_e).
    std::vector<double>& counts() noexcept { return counts_; }
    const std::vector<double>& counts() const noexcept { return counts_; }

private:
    RowMatrix centroids_;
    std::vector<double> counts_;
    Eigen::Index k_;
    KMeansRule rule_;
    double rate_;
};

} // namespace moesim::model
