#pragma once
// A two-layer network in the mean-field scaling, f(x) = (1/N) sum_i sigma(<theta_i, x>),
// whose N particles theta_i are sharded over ranks in partition blocks. The forward pass
// computes each block's partial sums with the same matrix shapes at any rank count and adds
// them with par::sum_block_partials, so predictions and gradients are bitwise independent of
// the rank count. Users: the mfld experiment, its tests and benchmark.

#include "moesim/model/activation.hpp"
#include "moesim/model/row_matrix.hpp"
#include "moesim/par/block_partition.hpp"

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include <functional>
#include <memory>

namespace moesim::model {

/// Mean-field two-layer network with sharded particles.
class MeanFieldNetwork {
public:
    /// `comm.size()` must equal `particles.nranks()`. Local particles start at zero.
    MeanFieldNetwork(boost::mpi::communicator comm, par::BlockPartition particles, Eigen::Index dim,
                     Activation activation);

    const par::BlockPartition& partition() const noexcept { return partition_; }
    /// Global ids of this rank's particles.
    par::IdRange local_ids() const noexcept { return local_; }
    Eigen::Index dim() const noexcept { return dim_; }

    /// This rank's particles, one row each (n_local x dim), in global id order.
    RowMatrix& particles() noexcept { return theta_; }
    const RowMatrix& particles() const noexcept { return theta_; }

    /// f(x_b) for every row x_b of `inputs` (B x dim, the same on every rank). Caches the
    /// activation derivatives for data_gradient(). Collective; bitwise independent of the
    /// rank count.
    Eigen::VectorXd predict(const RowMatrix& inputs);

    /// For each local particle, the data part of the gradient of the first variation,
    /// (1/B) sum_b dloss_b sigma'(<theta_i, x_b>) x_b, where dloss_b = d loss / d f(x_b),
    /// using the activations cached by the last predict() on the same `inputs`.
    /// Returns n_local x dim. Local; per-particle rows do not depend on the rank count.
    RowMatrix data_gradient(const RowMatrix& inputs, const Eigen::VectorXd& dloss) const;

    /// data_gradient() one partition block at a time, for a caller that applies each block
    /// at once (MeanFieldLangevin::step) instead of holding n_local x dim: calls
    /// visit(first, gradient) for each local block in id order, with `gradient` the block's
    /// rows of data_gradient() (width x dim) and `first` the local row of the first. Each
    /// block is one product of fixed shape, so its bits do not depend on the rank count.
    /// Local.
    void
    data_gradient_blocks(const RowMatrix& inputs, const Eigen::VectorXd& dloss,
                         const std::function<void(Eigen::Index, const RowMatrix&)>& visit) const;

private:
    boost::mpi::communicator comm_;
    par::BlockPartition partition_;
    par::IdRange local_;
    Eigen::Index dim_;
    Activation activation_;
    RowMatrix theta_;
    Eigen::MatrixXd derivative_; // B x n_local (column-major: a block's columns are contiguous)
    // Scratch of data_gradient_blocks, kept so that a step allocates nothing.
    mutable RowMatrix scaled_inputs_, block_gradient_;
    Eigen::MatrixXd pre_; // one block's pre-activations, B x block
    // The batch, packed once per call for all its block products
    // (src/model/packed_lhs_product.hpp). Scratch: copies may share it, since every call
    // packs before it multiplies.
    struct PackedProducts;
    std::shared_ptr<PackedProducts> packed_;
};

} // namespace moesim::model
