#include "moesim/model/mean_field_teacher.hpp"

#include "moesim/core/normal_rows.hpp"
#include "moesim/core/philox.hpp"

namespace moesim::model {

MeanFieldTeacher::MeanFieldTeacher(std::uint64_t seed, Eigen::Index dim, Eigen::Index width,
                                   double norm, double label_noise, Activation activation)
    : seed_(seed), dim_(dim), label_noise_(label_noise), activation_(activation),
      weights_(width, dim) {
    const core::Philox rng(seed, "mfld.teacher");
    for (Eigen::Index j = 0; j < width; ++j) {
        rng.fill_normal(static_cast<std::uint64_t>(j), 0,
                        std::span<double>(weights_.row(j).data(), static_cast<std::size_t>(dim)));
        weights_.row(j) *= norm / weights_.row(j).norm();
    }
}

Eigen::VectorXd MeanFieldTeacher::predict(const RowMatrix& inputs) const {
    const Eigen::MatrixXd pre = inputs * weights_.transpose();
    Eigen::VectorXd out(inputs.rows());
    for (Eigen::Index b = 0; b < inputs.rows(); ++b) {
        double sum = 0.0;
        for (Eigen::Index j = 0; j < pre.cols(); ++j)
            sum += activate(activation_, pre(b, j));
        out(b) = sum / static_cast<double>(weights_.rows());
    }
    return out;
}

void MeanFieldTeacher::sample(const std::string& stream, std::uint64_t first_id, Eigen::Index count,
                              RowMatrix& inputs, Eigen::VectorXd& labels) const {
    const core::Philox x_rng(seed_, "mfld.data." + stream);
    const core::Philox noise_rng(seed_, "mfld.label_noise." + stream);
    inputs.resize(count, dim_);
    core::fill_normal_rows(
        x_rng, first_id, 0, static_cast<std::size_t>(count), static_cast<std::size_t>(dim_),
        std::span<double>(inputs.data(), static_cast<std::size_t>(inputs.size())));
    labels = predict(inputs);
    if (label_noise_ > 0)
        for (Eigen::Index b = 0; b < count; ++b)
            labels(b) += label_noise_ *
                         noise_rng.normal_pair(first_id + static_cast<std::uint64_t>(b), 0, 0)[0];
}

} // namespace moesim::model
