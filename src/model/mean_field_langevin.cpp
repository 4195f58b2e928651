#include "moesim/model/mean_field_langevin.hpp"

#include "moesim/core/philox.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace moesim::model {

MeanFieldLangevin::MeanFieldLangevin(boost::mpi::communicator comm, par::BlockPartition particles,
                                     Eigen::Index dim, Activation activation,
                                     const MeanFieldTeacher& teacher, LangevinParams params,
                                     std::uint64_t seed)
    : comm_(comm), network_(comm, particles, dim, activation), teacher_(teacher), params_(params),
      seed_(seed) {}

void MeanFieldLangevin::initialize(double init_sd) {
    const core::Philox rng(seed_, "mfld.init");
    RowMatrix& theta = network_.particles();
    const auto first = network_.local_ids().begin;
    for (Eigen::Index i = 0; i < theta.rows(); ++i) {
        rng.fill_normal(
            first + static_cast<std::uint64_t>(i), 0,
            std::span<double>(theta.row(i).data(), static_cast<std::size_t>(theta.cols())));
        theta.row(i) *= init_sd;
    }
}

double MeanFieldLangevin::step(std::uint64_t step) {
    RowMatrix& theta = network_.particles();
    const double eta = params_.learning_rate;
    double batch_loss = std::numeric_limits<double>::quiet_NaN();
    if (params_.data_term) {
        const auto batch = static_cast<std::uint64_t>(params_.batch);
        teacher_.sample("train", step * batch, params_.batch, batch_inputs_, batch_labels_);
        const Eigen::VectorXd residual = network_.predict(batch_inputs_) - batch_labels_;
        batch_loss = 0.5 * residual.squaredNorm() / static_cast<double>(params_.batch);
        // The gradient comes from the activations cached by predict(), i.e. the old theta.
        const RowMatrix gradient = network_.data_gradient(batch_inputs_, residual);
        theta *= 1.0 - eta * params_.l2;
        theta -= eta * gradient;
    } else {
        theta *= 1.0 - eta * params_.l2;
    }

    // Langevin noise: a pure function of (seed, particle id, step), never of the rank.
    if (params_.entropy > 0) {
        const core::Philox rng(seed_, "mfld.noise");
        const double scale = std::sqrt(2.0 * params_.entropy * eta);
        std::vector<double> xi(static_cast<std::size_t>(theta.cols()));
        const auto first = network_.local_ids().begin;
        for (Eigen::Index i = 0; i < theta.rows(); ++i) {
            rng.fill_normal(first + static_cast<std::uint64_t>(i), static_cast<std::uint32_t>(step),
                            xi);
            for (Eigen::Index k = 0; k < theta.cols(); ++k)
                theta(i, k) += scale * xi[static_cast<std::size_t>(k)];
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
