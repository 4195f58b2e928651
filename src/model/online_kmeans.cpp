#include "moesim/model/online_kmeans.hpp"

#include <vector>

namespace moesim::model {

void online_kmeans_step(std::span<double> router, const RowMatrix& inputs, Eigen::Index n_exp,
                        double lr, Eigen::Index block) {
    const Eigen::Index dim = inputs.cols(), batch = inputs.rows();
    Eigen::Map<RowMatrix> weights(router.data(), n_exp, dim);
    RowMatrix sums = RowMatrix::Zero(n_exp, dim);
    std::vector<double> counts(static_cast<std::size_t>(n_exp), 0.0);
    RowMatrix logits;
    for (Eigen::Index first = 0; first < batch; first += block) {
        const Eigen::Index rows = std::min(block, batch - first);
        logits.noalias() = inputs.middleRows(first, rows) * weights.transpose();
        for (Eigen::Index b = 0; b < rows; ++b) {
            Eigen::Index top = 0;
            for (Eigen::Index e = 1; e < n_exp; ++e)
                if (logits(b, e) > logits(b, top))
                    top = e;
            sums.row(top) += inputs.row(first + b);
            counts[static_cast<std::size_t>(top)] += 1.0;
        }
    }
    const double scale = lr / static_cast<double>(batch);
    for (Eigen::Index e = 0; e < n_exp; ++e)
        weights.row(e) +=
            scale * (sums.row(e) - counts[static_cast<std::size_t>(e)] * weights.row(e));
}

} // namespace moesim::model
