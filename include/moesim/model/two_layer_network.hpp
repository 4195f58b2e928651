#pragma once
// A two-layer network in the standard scaling, f(x) = sum_j u_j sigma(<w_j, x>), whose m
// neurons are sharded over ranks in partition blocks; inputs are replicated. Per-block
// products have the same shape at any rank count and the block partials are added with
// par::sum_block_partials, so outputs and gradients are bitwise independent of the rank
// count (as MeanFieldNetwork). Users: the sgd experiment's vanilla baseline, tests.

#include "moesim/model/activation.hpp"
#include "moesim/model/mean_field_network.hpp"
#include "moesim/par/block_partition.hpp"

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include <cstdint>

namespace moesim::model {

/// Two-layer network with trainable first- and second-layer weights, neurons sharded.
class TwoLayerNetwork {
public:
    /// `comm.size()` must equal `neurons.nranks()`. Weights start at zero.
    TwoLayerNetwork(boost::mpi::communicator comm, par::BlockPartition neurons, Eigen::Index dim,
                    Activation activation);

    /// w_j ~ N(0, weight_sd^2 I), u_j ~ N(0, output_sd^2) from stream "vanilla.init",
    /// counter (neuron id, 0, draw). Local; independent of the rank count.
    void initialize(std::uint64_t seed, double weight_sd, double output_sd);

    /// f(x_b) for every row of `inputs` (B x dim, the same on every rank); caches the
    /// activations for backward(). Collective; bitwise independent of the rank count.
    Eigen::VectorXd predict(const RowMatrix& inputs);

    /// Gradients of sum_b dloss_b f(x_b) with respect to the local neurons' w_j and u_j, from
    /// the cache of the last predict() on the same `inputs`. Local.
    void backward(const RowMatrix& inputs, const Eigen::VectorXd& dloss);

    const par::BlockPartition& partition() const noexcept { return partition_; }
    par::IdRange local_ids() const noexcept { return local_; }
    Eigen::Index dim() const noexcept { return dim_; }
    /// Local first-layer weights (n_local x dim) and second-layer weights (n_local).
    RowMatrix& weights() noexcept { return weights_; }
    const RowMatrix& weights() const noexcept { return weights_; }
    Eigen::VectorXd& output_weights() noexcept { return output_weights_; }
    const Eigen::VectorXd& output_weights() const noexcept { return output_weights_; }
    const RowMatrix& weight_gradient() const noexcept { return weight_gradient_; }
    const Eigen::VectorXd& output_weight_gradient() const noexcept {
        return output_weight_gradient_;
    }

private:
    boost::mpi::communicator comm_;
    par::BlockPartition partition_;
    par::IdRange local_;
    Eigen::Index dim_;
    Activation activation_;
    RowMatrix weights_, weight_gradient_;
    Eigen::VectorXd output_weights_, output_weight_gradient_;
    Eigen::MatrixXd activation_cache_, derivative_; // B x n_local, column-major
};

} // namespace moesim::model
