#include "moesim/model/full_batch_langevin.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/normal_rows.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/model/initial_particles.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

namespace moesim::model {

std::uint64_t system_seed(std::uint64_t root, std::uint64_t system) {
    const auto bits = core::Philox(root, "poc.system").bits(system, 0, 0);
    return static_cast<std::uint64_t>(bits[0]) | (static_cast<std::uint64_t>(bits[1]) << 32);
}

FullBatchLangevin::FullBatchLangevin(boost::mpi::communicator comm, par::BlockPartition particles,
                                     const LabelledData& train, FullBatchLangevinParams params,
                                     std::uint64_t seed)
    : comm_(comm), network_(comm, particles, train.dim(), params.scale), train_(train),
      params_(params), seed_(seed) {
    core::require(train.size() > 0 && train.inputs.rows() == train.size(),
                  "FullBatchLangevin: the training set must be non-empty");
}

void FullBatchLangevin::initialize(double init_sd) {
    fill_initial_particles(core::Philox(seed_, "poc.init"), network_.local_ids().begin, init_sd,
                           network_.particles());
}

RowMatrix FullBatchLangevin::drift() {
    const Eigen::VectorXd f = network_.forward(train_.inputs);
    const Eigen::VectorXd dloss = mean_loss_gradient(params_.loss, f, train_.labels);
    RowMatrix gradient = network_.data_gradient(train_.inputs, dloss);
    gradient += (2.0 * params_.l2) * network_.particles();
    return gradient;
}

double FullBatchLangevin::step(std::uint64_t step) {
    core::require(step <= std::numeric_limits<std::uint32_t>::max(),
                  "FullBatchLangevin::step: step beyond the noise counter's 32 bits");
    const Eigen::VectorXd f =
        forward_done_ ? *std::move(forward_done_) : network_.forward(train_.inputs);
    forward_done_.reset();
    const double train_loss = mean_loss(params_.loss, f, train_.labels);
    const Eigen::VectorXd dloss = mean_loss_gradient(params_.loss, f, train_.labels);
    const RowMatrix gradient = network_.data_gradient(train_.inputs, dloss);

    RowMatrix& theta = network_.particles();
    const double eta = params_.learning_rate;
    const double decay = 1.0 - 2.0 * eta * params_.l2; // theta - eta * 2 l2 theta
    const double noise_scale = std::sqrt(2.0 * params_.entropy * eta);
    const core::Philox rng(seed_, "poc.noise");
    const auto first = network_.local_ids().begin;
    // A chunk of rows at a time: the noise stays in cache, and its normals are drawn
    // vectorised; xi_i is a pure function of (seed, particle id, step), never of the rank.
    constexpr Eigen::Index chunk = 256;
    RowMatrix xi;
    for (Eigen::Index begin = 0; begin < theta.rows(); begin += chunk) {
        const Eigen::Index width = std::min(chunk, theta.rows() - begin);
        auto rows = theta.middleRows(begin, width);
        const auto grad = gradient.middleRows(begin, width);
        if (noise_scale > 0) {
            xi.resize(width, theta.cols());
            core::fill_normal_rows(
                rng, first + static_cast<std::uint64_t>(begin), static_cast<std::uint32_t>(step),
                static_cast<std::size_t>(width), static_cast<std::size_t>(theta.cols()),
                std::span<double>(xi.data(), xi.size()));
            rows = (decay * rows - eta * grad) + noise_scale * xi;
        } else {
            rows = decay * rows - eta * grad;
        }
    }
    return train_loss;
}

double FullBatchLangevin::loss(const LabelledData& data) const {
    return mean_loss(params_.loss, network_.predict(data.inputs), data.labels);
}

double FullBatchLangevin::train_loss() {
    forward_done_ = network_.forward(train_.inputs);
    return mean_loss(params_.loss, *forward_done_, train_.labels);
}

double FullBatchLangevin::entropy(const KnnEntropyOptions& options) const {
    return knn_entropy(comm_, network_.partition(), network_.particles(), options);
}

double FullBatchLangevin::second_moment() const {
    const RowMatrix& theta = network_.particles();
    // Row by row: each row's reduction has one shape whatever the number of local rows.
    std::vector<double> norms(static_cast<std::size_t>(theta.rows()));
    for (Eigen::Index i = 0; i < theta.rows(); ++i) {
        double sum = 0.0;
        for (Eigen::Index c = 0; c < theta.cols(); ++c)
            sum += theta(i, c) * theta(i, c);
        norms[static_cast<std::size_t>(i)] = sum;
    }
    const double total = par::deterministic_sum(comm_, network_.partition(), norms);
    return total / static_cast<double>(network_.partition().n_items());
}

ObjectiveTerms FullBatchLangevin::objective_terms(const LabelledData& data,
                                                  const KnnEntropyOptions& entropy) const {
    ObjectiveTerms terms;
    terms.loss = loss(data);
    terms.second_moment = second_moment();
    terms.entropy = this->entropy(entropy);
    return terms;
}

} // namespace moesim::model
