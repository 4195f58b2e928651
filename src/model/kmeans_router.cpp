#include "moesim/model/kmeans_router.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace moesim::model {

KMeansRule parse_kmeans_rule(const std::string& name) {
    if (name == "cumulative")
        return KMeansRule::cumulative;
    if (name == "ema")
        return KMeansRule::ema;
    throw core::InternalError("unknown k-means rule '" + name + "'");
}

KMeansRouter::KMeansRouter(Eigen::Index dim, std::int64_t n_experts, Eigen::Index k,
                           KMeansRule rule, double rate)
    : centroids_(RowMatrix::Zero(n_experts, dim)),
      counts_(static_cast<std::size_t>(n_experts), 0.0), k_(k), rule_(rule), rate_(rate) {
    core::require(n_experts >= 1 && k >= 1 && k <= n_experts && rate > 0 && rate <= 1,
                  "KMeansRouter: need 1 <= k <= n_experts and 0 < rate <= 1");
}

Routing KMeansRouter::route(const RowMatrix& inputs) const {
    core::require(inputs.cols() == dim(), "KMeansRouter::route: input width != dim");
    const Eigen::Index n = inputs.rows(), n_exp = centroids_.rows();
    Routing routing;
    routing.k = k_;
    // Cosine similarities; a zero centroid (or input) has similarity 0.
    routing.cache.noalias() = inputs * centroids_.transpose();
    const Eigen::VectorXd centroid_norm = centroids_.rowwise().norm();
    routing.expert.resize(static_cast<std::size_t>(n * k_));
    routing.gate.setConstant(n, k_, 1.0 / static_cast<double>(k_));
    for (Eigen::Index b = 0; b < n; ++b) {
        const double input_norm = inputs.row(b).norm();
        double* c = routing.cache.row(b).data();
        for (Eigen::Index e = 0; e < n_exp; ++e) {
            const double norms = input_norm * centroid_norm(e);
            c[e] = norms > 0 ? c[e] / norms : 0.0;
        }
        std::int32_t* chosen = routing.expert.data() + b * k_;
        for (Eigen::Index s = 0; s < k_; ++s) {
            std::int32_t best = -1;
            for (Eigen::Index e = 0; e < n_exp; ++e) {
                if (std::find(chosen, chosen + s, static_cast<std::int32_t>(e)) != chosen + s)
                    continue;
                if (best < 0 || c[e] > c[best])
                    best = static_cast<std::int32_t>(e);
            }
            chosen[s] = best;
        }
    }
    return routing;
}

std::vector<double> KMeansRouter::gradient(const RowMatrix&, const Routing&,
                                           const RowMatrix&) const {
    return {};
}

RowMatrix KMeansRouter::input_gradient(const RowMatrix& inputs, const Routing&,
                                       const RowMatrix&) const {
    return RowMatrix::Zero(inputs.rows(), inputs.cols());
}

void KMeansRouter::update(const RowMatrix& batch, Eigen::Index block) {
    const Eigen::Index rows = batch.rows(), n_exp = centroids_.rows();
    RowMatrix sums = RowMatrix::Zero(n_exp, dim());
    std::vector<double> arrived(static_cast<std::size_t>(n_exp), 0.0);
    for (Eigen::Index first = 0; first < rows; first += block) {
        const Eigen::Index n = std::min(block, rows - first);
        const RowMatrix inputs = batch.middleRows(first, n);
        const Routing routing = route(inputs);
        for (Eigen::Index b = 0; b < n; ++b)
            for (Eigen::Index s = 0; s < k_; ++s) {
                const auto e = routing.expert[static_cast<std::size_t>(b * k_ + s)];
                sums.row(e) += inputs.row(b);
                arrived[static_cast<std::size_t>(e)] += 1.0;
            }
    }
    for (Eigen::Index e = 0; e < n_exp; ++e) {
        const double n_b = arrived[static_cast<std::size_t>(e)];
        if (n_b == 0)
            continue;
        double& n_e = counts_[static_cast<std::size_t>(e)];
        if (rule_ == KMeansRule::cumulative)
            centroids_.row(e) += (sums.row(e) - n_b * centroids_.row(e)) / (n_e + n_b);
        else
            centroids_.row(e) += rate_ * (sums.row(e) / n_b - centroids_.row(e));
        n_e += n_b;
    }
}

} // namespace moesim::model
