#include "moesim/model/load_balancing_loss.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::model {

std::vector<double> load_balancing_gradient(std::span<const double> router, const RowMatrix& inputs,
                                            const std::vector<double>& load, double alpha,
                                            Eigen::Index block) {
    const auto n_exp = static_cast<Eigen::Index>(load.size());
    const Eigen::Index dim = inputs.cols(), batch = inputs.rows();
    const Eigen::Map<const RowMatrix> weights(router.data(), n_exp, dim);
    double slots = 0;
    for (double l : load)
        slots += l;
    RowMatrix gradient = RowMatrix::Zero(n_exp, dim);
    if (slots <= 0 || alpha == 0)
        return {gradient.data(), gradient.data() + gradient.size()};
    const double scale = alpha * static_cast<double>(n_exp) / static_cast<double>(batch);
    RowMatrix logits, dlogits;
    for (Eigen::Index first = 0; first < batch; first += block) {
        const Eigen::Index rows = std::min(block, batch - first);
        logits.noalias() = inputs.middleRows(first, rows) * weights.transpose();
        dlogits.resize(rows, n_exp);
        for (Eigen::Index b = 0; b < rows; ++b) {
            auto p = logits.row(b);
            const double top = p.maxCoeff();
            double sum = 0;
            for (Eigen::Index e = 0; e < n_exp; ++e) {
                p(e) = std::exp(p(e) - top);
                sum += p(e);
            }
            p /= sum;
            // d/dlogit_j sum_e f_e p_e = p_j (f_j - sum_e f_e p_e).
            double mean_f = 0;
            for (Eigen::Index e = 0; e < n_exp; ++e)
                mean_f += load[static_cast<std::size_t>(e)] / slots * p(e);
            for (Eigen::Index j = 0; j < n_exp; ++j)
                dlogits(b, j) = scale * p(j) * (load[static_cast<std::size_t>(j)] / slots - mean_f);
        }
        gradient.noalias() += dlogits.transpose() * inputs.middleRows(first, rows);
    }
    return {gradient.data(), gradient.data() + gradient.size()};
}

} // namespace moesim::model
