#include "moesim/model/mean_field_network.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include "fused_tanh.hpp"
#include "packed_lhs_product.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::model {

// predict(): pre = inputs (B x d, row-major) * theta_block^T (d x block, column-major view).
// data_gradient_blocks(): gradient^T (d x block) = scaled_inputs^T (d x B, column-major view of
// the row-major B x d) * derivative_block (B x block), which is how Eigen evaluates the
// row-major gradient = derivative_block^T * scaled_inputs. Either way the batch is the packed
// operand, shared by every block.
struct MeanFieldNetwork::PackedProducts {
    impl::PackedLhsProduct<Eigen::RowMajor, Eigen::ColMajor> forward;
    impl::PackedLhsProduct<Eigen::ColMajor, Eigen::ColMajor> gradient;
};

MeanFieldNetwork::MeanFieldNetwork(boost::mpi::communicator comm, par::BlockPartition particles,
                                   Eigen::Index dim, Activation activation)
    : comm_(std::move(comm)), partition_(particles), local_(particles.items_of(comm_.rank())),
      dim_(dim), activation_(activation),
      theta_(RowMatrix::Zero(static_cast<Eigen::Index>(local_.size()), dim)),
      packed_(std::make_shared<PackedProducts>()) {
    core::require(comm_.size() == partition_.nranks(),
                  "MeanFieldNetwork: communicator size differs from the partition's");
}

Eigen::VectorXd MeanFieldNetwork::predict(const RowMatrix& inputs) {
    core::require(inputs.cols() == dim_, "MeanFieldNetwork::predict: input width != dim");
    const Eigen::Index batch = inputs.rows();
    const par::IdRange blocks = partition_.blocks_of(comm_.rank());
    derivative_.resize(batch, static_cast<Eigen::Index>(local_.size()));
    Eigen::MatrixXd partials(batch, static_cast<Eigen::Index>(blocks.size()));

    // One block at a time: the GEMM shape (B x dim) * (dim x block) is the same at any rank
    // count, so each block's partial sums have the same bits everywhere. The inputs are
    // packed for the block width once (a last, narrower block repacks them for its own
    // width); each product has the bits of Eigen's `inputs * theta_block^T`.
    Eigen::MatrixXd& pre = pre_;
    Eigen::Index packed_width = -1;
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const par::IdRange ids = partition_.items_in_block(b);
        const auto first = static_cast<Eigen::Index>(ids.begin - local_.begin);
        const auto width = static_cast<Eigen::Index>(ids.size());
        if (width != packed_width) {
            packed_->forward.pack(inputs.data(), dim_, batch, dim_, width);
            packed_width = width;
        }
        pre.resize(batch, width);
        packed_->forward.multiply(theta_.data() + first * dim_, dim_, pre.data(), batch);
        auto column = partials.col(static_cast<Eigen::Index>(b - blocks.begin));
        auto deriv = derivative_.middleCols(first, width);
        // Each row's sum adds j = 0, 1, ... from 0.0, as a per-row loop would: column by
        // column elementwise adds do not reassociate, so the bits are those of that loop.
        column.setZero();
        if (activation_ == Activation::tanh) {
            // One sweep over the block: tanh, the row sums and 1 - tanh^2, column by column.
            for (Eigen::Index j = 0; j < width; ++j)
                impl::tanh_accumulate(pre.col(j).data(), static_cast<std::size_t>(batch),
                                      column.data(), deriv.col(j).data());
        } else {
            for (Eigen::Index j = 0; j < width; ++j) {
                for (Eigen::Index b_row = 0; b_row < batch; ++b_row) {
                    double value = 0.0;
                    activate_with_derivative(activation_, pre(b_row, j), value, deriv(b_row, j));
                    pre(b_row, j) = value;
                }
                column += pre.col(j);
            }
        }
    }
    const auto total = par::sum_block_partials(
        comm_, partition_, std::span<const double>(partials.data(), partials.size()),
        static_cast<std::size_t>(batch));
    // Column-major partials: block k's B values are contiguous, as sum_block_partials expects.
    Eigen::VectorXd f = Eigen::Map<const Eigen::VectorXd>(total.data(), batch);
    f /= static_cast<double>(partition_.n_items());
    return f;
}

RowMatrix MeanFieldNetwork::data_gradient(const RowMatrix& inputs,
                                          const Eigen::VectorXd& dloss) const {
    RowMatrix gradient(theta_.rows(), dim_);
    data_gradient_blocks(inputs, dloss, [&](Eigen::Index first, const RowMatrix& block) {
        gradient.middleRows(first, block.rows()) = block;
    });
    return gradient;
}

void MeanFieldNetwork::data_gradient_blocks(
    const RowMatrix& inputs, const Eigen::VectorXd& dloss,
    const std::function<void(Eigen::Index, const RowMatrix&)>& visit) const {
    core::require(derivative_.rows() == inputs.rows() && dloss.size() == inputs.rows() &&
                      derivative_.cols() == theta_.rows(),
                  "MeanFieldNetwork::data_gradient: call predict() on the same batch first");
    // dloss_b x_b / B once (B x dim, the same on every rank), so each block's gradient is one
    // product of the cached derivatives with it: no pass over the B x block derivatives.
    scaled_inputs_ = (dloss / static_cast<double>(inputs.rows())).asDiagonal() * inputs;
    const Eigen::Index batch = inputs.rows();
    const par::IdRange blocks = partition_.blocks_of(comm_.rank());
    Eigen::Index packed_width = -1;
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const par::IdRange ids = partition_.items_in_block(b);
        const auto first = static_cast<Eigen::Index>(ids.begin - local_.begin);
        const auto width = static_cast<Eigen::Index>(ids.size());
        if (width != packed_width) {
            packed_->gradient.pack(scaled_inputs_.data(), dim_, dim_, batch, width);
            packed_width = width;
        }
        block_gradient_.resize(width, dim_);
        // Bitwise `derivative_.middleCols(first, width).transpose() * scaled_inputs_`.
        packed_->gradient.multiply(derivative_.data() + first * batch, batch,
                                   block_gradient_.data(), dim_);
        visit(first, block_gradient_);
    }
}

} // namespace moesim::model
