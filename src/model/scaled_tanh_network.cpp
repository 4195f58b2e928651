#include "moesim/model/scaled_tanh_network.hpp"

#include "moesim/core/error.hpp"
#include "moesim/model/vector_tanh.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <cmath>
#include <span>

namespace moesim::model {

ScaledTanhNetwork::ScaledTanhNetwork(boost::mpi::communicator comm, par::BlockPartition particles,
                                     Eigen::Index input_dim, double scale)
    : comm_(std::move(comm)), partition_(particles), local_(particles.items_of(comm_.rank())),
      input_dim_(input_dim), scale_(scale),
      theta_(RowMatrix::Zero(static_cast<Eigen::Index>(local_.size()), input_dim + 2)) {
    core::require(comm_.size() == partition_.nranks(),
                  "ScaledTanhNetwork: communicator size differs from the partition's");
    core::require(input_dim >= 1, "ScaledTanhNetwork: input_dim must be positive");
}

Eigen::VectorXd ScaledTanhNetwork::predict(const RowMatrix& inputs) const {
    return predict_blocks(inputs, nullptr);
}

Eigen::VectorXd ScaledTanhNetwork::forward(const RowMatrix& inputs) {
    output_gates_.resize(theta_.rows());
    for (Eigen::Index i = 0; i < theta_.rows(); ++i)
        output_gates_(i) = std::tanh(theta_(i, input_dim_ + 1));
    return predict_blocks(inputs, &activations_);
}

Eigen::VectorXd ScaledTanhNetwork::predict_blocks(const RowMatrix& inputs,
                                                  std::vector<Eigen::MatrixXd>* keep) const {
    core::require(inputs.cols() == input_dim_, "ScaledTanhNetwork::predict: input width != d");
    const Eigen::Index n = inputs.rows();
    const Eigen::Index d = input_dim_;
    const par::IdRange blocks = partition_.blocks_of(comm_.rank());
    Eigen::MatrixXd partials(n, static_cast<Eigen::Index>(blocks.size()));
    if (keep != nullptr)
        keep->resize(blocks.size());

    Eigen::MatrixXd pre;
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const par::IdRange ids = partition_.items_in_block(b);
        const auto first = static_cast<Eigen::Index>(ids.begin - local_.begin);
        const auto width = static_cast<Eigen::Index>(ids.size());
        const auto block = theta_.middleRows(first, width);
        // (n x d) * (d x block): the same shape at any rank count, so the same bits.
        pre.noalias() = inputs * block.leftCols(d).transpose();
        for (Eigen::Index j = 0; j < width; ++j)
            pre.col(j).array() += block(j, d);
        tanh_in_place(pre);
        // Each row's sum adds j = 0, 1, ... from 0.0: elementwise multiply-then-add rounds the
        // same in Eigen's packet and scalar paths (no FMA under -ffp-contract=off).
        auto column = partials.col(static_cast<Eigen::Index>(b - blocks.begin));
        column.setZero();
        for (Eigen::Index j = 0; j < width; ++j)
            column += (scale_ * std::tanh(block(j, d + 1))) * pre.col(j);
        if (keep != nullptr)
            (*keep)[static_cast<std::size_t>(b - blocks.begin)].swap(pre);
    }
    // Column-major partials: block k's n values are contiguous, as sum_block_partials expects.
    const auto total = par::sum_block_partials(
        comm_, partition_, std::span<const double>(partials.data(), partials.size()),
        static_cast<std::size_t>(n));
    Eigen::VectorXd f = Eigen::Map<const Eigen::VectorXd>(total.data(), n);
    f /= static_cast<double>(partition_.n_items());
    return f;
}

RowMatrix ScaledTanhNetwork::data_gradient(const RowMatrix& inputs,
                                           const Eigen::VectorXd& dloss) const {
    const par::IdRange blocks = partition_.blocks_of(comm_.rank());
    const Eigen::Index n = inputs.rows();
    const Eigen::Index d = input_dim_;
    core::require(activations_.size() == blocks.size() && dloss.size() == n && inputs.cols() == d &&
                      output_gates_.size() == theta_.rows() &&
                      (activations_.empty() || activations_.front().rows() == n),
                  "ScaledTanhNetwork::data_gradient: call forward() on the same inputs first");
    RowMatrix gradient(theta_.rows(), particle_dim());
    Eigen::MatrixXd weighted, inner;
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const par::IdRange ids = partition_.items_in_block(b);
        const auto first = static_cast<Eigen::Index>(ids.begin - local_.begin);
        const auto width = static_cast<Eigen::Index>(ids.size());
        const Eigen::MatrixXd& t = activations_[static_cast<std::size_t>(b - blocks.begin)];
        // dloss_b (1 - t_bj^2): the chain rule through the inner tanh.
        weighted = ((1.0 - t.array().square()).colwise() * dloss.array()).matrix();
        inner.noalias() = weighted.transpose() * inputs; // (block x n) * (n x d)
        for (Eigen::Index j = 0; j < width; ++j) {
            const double s = output_gates_(first + j);
            const double gate = scale_ * s;
            double bias_sum = 0.0, gate_sum = 0.0;
            for (Eigen::Index row = 0; row < n; ++row) {
                bias_sum += weighted(row, j);
                gate_sum += dloss(row) * t(row, j);
            }
            auto out = gradient.row(first + j);
            out.head(d) = gate * inner.row(j);
            out(d) = gate * bias_sum;
            out(d + 1) = scale_ * (1.0 - s * s) * gate_sum;
        }
    }
    return gradient;
}

} // namespace moesim::model
