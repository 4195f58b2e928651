#include "moesim/model/ensemble.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim::model {

Eigen::VectorXd merge_predictions(const RowMatrix& predictions,
                                  std::span<const std::size_t> members) {
    core::require(!members.empty(), "merge_predictions: no members");
    for (std::size_t m : members)
        core::require(m < static_cast<std::size_t>(predictions.rows()),
                      "merge_predictions: member out of range");
    const Eigen::VectorXd anchor =
        predictions.row(static_cast<Eigen::Index>(members[0])).transpose();
    Eigen::VectorXd offset = Eigen::VectorXd::Zero(predictions.cols());
    for (std::size_t m = 1; m < members.size(); ++m)
        offset += predictions.row(static_cast<Eigen::Index>(members[m])).transpose() - anchor;
    return anchor + offset / static_cast<double>(members.size());
}

double sup_distance(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    core::require(a.size() == b.size(), "sup_distance: lengths differ");
    double sup = 0.0;
    for (Eigen::Index i = 0; i < a.size(); ++i)
        sup = std::max(sup, std::abs(a(i) - b(i)));
    return sup;
}

double l2_distance(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    core::require(a.size() == b.size() && a.size() > 0, "l2_distance: lengths differ or are 0");
    double sum = 0.0;
    for (Eigen::Index i = 0; i < a.size(); ++i)
        sum += (a(i) - b(i)) * (a(i) - b(i));
    return std::sqrt(sum / static_cast<double>(a.size()));
}

std::vector<std::size_t> draw_members(const core::Philox& stream, std::uint64_t draw, std::size_t m,
                                      std::size_t pool) {
    core::require(m >= 1 && m <= pool, "draw_members: need 1 <= m <= pool");
    std::vector<std::size_t> order(pool);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t j = 0; j < m; ++j) {
        const double u = stream.uniform_pair(draw, 0, static_cast<std::uint32_t>(j))[0];
        // u in (0, 1): pick uniformly among the pool - j not yet taken.
        const auto span = static_cast<double>(pool - j);
        const std::size_t pick = j + std::min(pool - j - 1, static_cast<std::size_t>(u * span));
        std::swap(order[j], order[pick]);
    }
    order.resize(m);
    std::sort(order.begin(), order.end());
    return order;
}

} // namespace moesim::model
