#include "moesim/model/two_layer_network.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/par/deterministic_sum.hpp"

namespace moesim::model {

TwoLayerNetwork::TwoLayerNetwork(boost::mpi::communicator comm, par::BlockPartition neurons,
                                 Eigen::Index dim, Activation activation)
    : comm_(std::move(comm)), partition_(neurons), local_(neurons.items_of(comm_.rank())),
      dim_(dim), activation_(activation),
      weights_(RowMatrix::Zero(static_cast<Eigen::Index>(local_.size()), dim)),
      weight_gradient_(RowMatrix::Zero(weights_.rows(), dim)),
      output_weights_(Eigen::VectorXd::Zero(weights_.rows())),
      output_weight_gradient_(Eigen::VectorXd::Zero(weights_.rows())) {
    core::require(comm_.size() == partition_.nranks(),
                  "TwoLayerNetwork: communicator size differs from the partition's");
}

void TwoLayerNetwork::initialize(std::uint64_t seed, double weight_sd, double output_sd) {
    const core::Philox rng(seed, "vanilla.init");
    for (Eigen::Index i = 0; i < weights_.rows(); ++i) {
        const std::uint64_t id = local_.begin + static_cast<std::uint64_t>(i);
        rng.fill_normal(
            id, 0, std::span<double>(weights_.row(i).data(), static_cast<std::size_t>(dim_)), 1);
        weights_.row(i) *= weight_sd;
        output_weights_(i) = output_sd * rng.normal_pair(id, 0, 0)[0];
    }
}

Eigen::VectorXd TwoLayerNetwork::predict(const RowMatrix& inputs) {
    core::require(inputs.cols() == dim_, "TwoLayerNetwork::predict: input width != dim");
    const Eigen::Index batch = inputs.rows();
    const par::IdRange blocks = partition_.blocks_of(comm_.rank());
    activation_cache_.resize(batch, weights_.rows());
    derivative_.resize(batch, weights_.rows());
    Eigen::MatrixXd partials(batch, static_cast<Eigen::Index>(blocks.size()));
    Eigen::MatrixXd pre;
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const par::IdRange ids = partition_.items_in_block(b);
        const auto first = static_cast<Eigen::Index>(ids.begin - local_.begin);
        const auto width = static_cast<Eigen::Index>(ids.size());
        // One block at a time: (B x dim) * (dim x block) has the same shape at any rank count.
        pre.noalias() = inputs * weights_.middleRows(first, width).transpose();
        auto column = partials.col(static_cast<Eigen::Index>(b - blocks.begin));
        for (Eigen::Index row = 0; row < batch; ++row) {
            double sum = 0.0;
            for (Eigen::Index j = 0; j < width; ++j) {
                double& value = activation_cache_(row, first + j);
                activate_with_derivative(activation_, pre(row, j), value,
                                         derivative_(row, first + j));
                sum += output_weights_(first + j) * value;
            }
            column(row) = sum;
        }
    }
    const auto total = par::sum_block_partials(
        comm_, partition_,
        std::span<const double>(partials.data(), static_cast<std::size_t>(partials.size())),
        static_cast<std::size_t>(batch));
    return Eigen::Map<const Eigen::VectorXd>(total.data(), batch);
}

void TwoLayerNetwork::backward(const RowMatrix& inputs, const Eigen::VectorXd& dloss) {
    core::require(derivative_.rows() == inputs.rows() && dloss.size() == inputs.rows(),
                  "TwoLayerNetwork::backward: call predict() on the same batch first");
    const par::IdRange blocks = partition_.blocks_of(comm_.rank());
    Eigen::MatrixXd weighted;
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const par::IdRange ids = partition_.items_in_block(b);
        const auto first = static_cast<Eigen::Index>(ids.begin - local_.begin);
        const auto width = static_cast<Eigen::Index>(ids.size());
        weighted =
            (derivative_.middleCols(first, width).array().colwise() * dloss.array()).rowwise() *
            output_weights_.segment(first, width).transpose().array();
        weight_gradient_.middleRows(first, width).noalias() = weighted.transpose() * inputs;
        output_weight_gradient_.segment(first, width).noalias() =
            activation_cache_.middleCols(first, width).transpose() * dloss;
    }
}

} // namespace moesim::model
