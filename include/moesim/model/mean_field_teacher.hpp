#pragma once
// Teacher-student regression data for mean-field experiments (MODELS.md section 3):
// x ~ N(0, I_d) and y = (1/m) sum_j sigma(<theta*_j, x>) + noise * eps, with m teacher
// particles of fixed norm. Every sample is a pure function of (seed, stream, global sample
// id), so any rank can generate any sample and batches do not depend on the rank count.

#include "moesim/model/activation.hpp"
#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <string>

namespace moesim::model {

/// The teacher network and its sample streams. Local.
class MeanFieldTeacher {
public:
    /// Teacher particles theta*_j = norm * g_j / |g_j|, g_j ~ N(0, I_dim) from stream
    /// "teacher" of `seed`.
    MeanFieldTeacher(std::uint64_t seed, Eigen::Index dim, Eigen::Index width, double norm,
                     double label_noise, Activation activation);

    /// Samples [first_id, first_id + count) of the named stream ("train", "test"): inputs
    /// (count x dim) and labels (count). Local; a pure function of the arguments.
    void sample(const std::string& stream, std::uint64_t first_id, Eigen::Index count,
                RowMatrix& inputs, Eigen::VectorXd& labels) const;

    /// The teacher's noiseless output for each row of `inputs`.
    Eigen::VectorXd predict(const RowMatrix& inputs) const;

    const RowMatrix& weights() const noexcept { return weights_; }

private:
    std::uint64_t seed_;
    Eigen::Index dim_;
    double label_noise_;
    Activation activation_;
    RowMatrix weights_; // width x dim
};

} // namespace moesim::model
