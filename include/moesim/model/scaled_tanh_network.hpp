#pragma once
// The mean-field network of arXiv 2502.05784, f(z) = (1/N) sum_i h(z; theta_i) with the
// scaled tanh neuron h (model/scaled_tanh_neuron.hpp), whose N particles theta_i (rows of
// d + 2 values) are sharded over ranks in partition blocks. Every product and sum runs one
// block at a time with shapes that do not depend on the rank count, and block partials are
// added by par::sum_block_partials, so predictions and gradients are bitwise independent of
// the rank count. Users: model/full_batch_langevin, the propagation-of-chaos experiment.

#include "moesim/model/row_matrix.hpp"
#include "moesim/par/block_partition.hpp"

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include <vector>

namespace moesim::model {

/// Mean-field network of scaled tanh neurons with sharded particles.
class ScaledTanhNetwork {
public:
    /// `comm.size()` must equal `particles.nranks()`; `input_dim` is d (particles have d + 2
    /// coordinates); `scale` is R. Local particles start at zero. Local (no communication).
    ScaledTanhNetwork(boost::mpi::communicator comm, par::BlockPartition particles,
                      Eigen::Index input_dim, double scale);

    const par::BlockPartition& partition() const noexcept { return partition_; }
    const boost::mpi::communicator& comm() const noexcept { return comm_; }
    /// Global ids of this rank's particles.
    par::IdRange local_ids() const noexcept { return local_; }
    Eigen::Index input_dim() const noexcept { return input_dim_; }
    /// d + 2: (theta1, theta2, theta3).
    Eigen::Index particle_dim() const noexcept { return input_dim_ + 2; }
    double scale() const noexcept { return scale_; }

    /// This rank's particles, one row each (n_local x (d + 2)), in global id order.
    RowMatrix& particles() noexcept { return theta_; }
    const RowMatrix& particles() const noexcept { return theta_; }

    /// f(z_b) for every row z_b of `inputs` (n x d, the same on every rank). Collective;
    /// bitwise independent of the rank count.
    Eigen::VectorXd predict(const RowMatrix& inputs) const;

    /// predict(), also keeping each local block's activations for data_gradient() (n values
    /// per local particle). Collective; bitwise independent of the rank count.
    Eigen::VectorXd forward(const RowMatrix& inputs);

    /// For each local particle, sum_b dloss_b grad_theta h(z_b; theta_i): the gradient of the
    /// first variation of a data term whose derivative with respect to f(z_b) is dloss_b
    /// (e.g. model::mean_loss_gradient, which includes the 1/n), i.e. N times the gradient of
    /// the finite-N data term with respect to theta_i. Uses the activations of the last
    /// forward() on the same `inputs` and the particles as they were then. Returns
    /// n_local x (d + 2). Local; each row is bitwise independent of the rank count.
    RowMatrix data_gradient(const RowMatrix& inputs, const Eigen::VectorXd& dloss) const;

private:
    Eigen::VectorXd predict_blocks(const RowMatrix& inputs,
                                   std::vector<Eigen::MatrixXd>* keep) const;

    boost::mpi::communicator comm_;
    par::BlockPartition partition_;
    par::IdRange local_;
    Eigen::Index input_dim_;
    double scale_;
    RowMatrix theta_;
    // tanh(<theta1, z_b> + theta2), n x block width, one matrix per local block: each block's
    // own allocation, so the alignment Eigen's reductions see never depends on the rank.
    std::vector<Eigen::MatrixXd> activations_;
    // tanh(theta3) per local particle, as of the last forward().
    Eigen::VectorXd output_gates_;
};

} // namespace moesim::model
