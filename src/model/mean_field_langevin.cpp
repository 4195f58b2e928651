#include "moesim/model/mean_field_langevin.hpp"

#include "moesim/core/normal_rows.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/model/initial_particles.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <cmath>
#include <limits>
#include <span>

namespace moesim::model {

MeanFieldLangevin::MeanFieldLangevin(boost::mpi::communicator comm, par::BlockPartition particles,
                                     Eigen::Index dim, Activation activation,
                                     const MeanFieldTeacher& teacher, LangevinParams params,
                                     std::uint64_t seed)
    : comm_(comm), network_(comm, particles, dim, activation), teacher_(teacher), params_(params),
      seed_(seed) {}

void MeanFieldLangevin::initialize(double init_sd) {
    fill_initial_particles(core::Philox(seed_, "mfld.init"), network_.local_ids().begin, init_sd,
                           network_.particles());
}

double MeanFieldLangevin::step(std::uint64_t step) {
    RowMatrix& theta = network_.particles();
    const double eta = params_.learning_rate;
    const double decay = 1.0 - eta * params_.l2;
    const double scale = std::sqrt(2.0 * params_.entropy * eta);
    const core::Philox rng(seed_, "mfld.noise");
    const auto first_id = network_.local_ids().begin;
    // theta_i <- decay theta_i - eta g_i + scale xi_i for the rows [first, first + width) of one
    // block, in one pass; xi_i is a pure function of (seed, particle id, step), never of the
    // rank (core::fill_normal_rows), drawn a block at a time.
    const auto update = [&](Eigen::Index first, Eigen::Index width, const RowMatrix* gradient) {
        auto rows = theta.middleRows(first, width);
        if (params_.entropy > 0) {
            noise_.resize(width, theta.cols());
            core::fill_normal_rows(
                rng, first_id + static_cast<std::uint64_t>(first), static_cast<std::uint32_t>(step),
                static_cast<std::size_t>(width), static_cast<std::size_t>(theta.cols()),
                std::span<double>(noise_.data(), noise_.size()));
            if (gradient)
                rows = (decay * rows - eta * *gradient) + scale * noise_;
            else
                rows = decay * rows + scale * noise_;
        } else if (gradient) {
            rows = decay * rows - eta * *gradient;
        } else {
            rows *= decay;
        }
    };

    double batch_loss = std::numeric_limits<double>::quiet_NaN();
    if (params_.data_term) {
        const auto batch = static_cast<std::uint64_t>(params_.batch);
        teacher_.sample("train", step * batch, params_.batch, batch_inputs_, batch_labels_);
        const Eigen::VectorXd residual = network_.predict(batch_inputs_) - batch_labels_;
        batch_loss = 0.5 * residual.squaredNorm() / static_cast<double>(params_.batch);
        // The gradient comes from the activations cached by predict(), i.e. the old theta,
        // and each block is updated as soon as its gradient is formed.
        network_.data_gradient_blocks(batch_inputs_, residual,
                                      [&](Eigen::Index first, const RowMatrix& gradient) {
                                          update(first, gradient.rows(), &gradient);
                                      });
    } else {
        const par::BlockPartition& partition = network_.partition();
        const par::IdRange blocks = partition.blocks_of(comm_.rank());
        for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
            const par::IdRange ids = partition.items_in_block(b);
            update(static_cast<Eigen::Index>(ids.begin - first_id),
                   static_cast<Eigen::Index>(ids.size()), nullptr);
        }
    }
    return batch_loss;
}

double MeanFieldLangevin::loss(const RowMatrix& inputs, const Eigen::VectorXd& labels) {
    const Eigen::VectorXd residual = network_.predict(inputs) - labels;
    return 0.5 * residual.squaredNorm() / static_cast<double>(inputs.rows());
}

double MeanFieldLangevin::second_moment() const {
    const RowMatrix& theta = network_.particles();
    // Row by row: each row's reduction has one shape whatever the number of local rows.
    Eigen::VectorXd norms(theta.rows());
    for (Eigen::Index i = 0; i < theta.rows(); ++i)
        norms(i) = theta.row(i).squaredNorm();
    const double sum = par::deterministic_sum(
        comm_, network_.partition(),
        std::span<const double>(norms.data(), static_cast<std::size_t>(norms.size())));
    return sum / static_cast<double>(network_.partition().n_items());
}

} // namespace moesim::model
