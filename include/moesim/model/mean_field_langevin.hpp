#pragma once
// Mean-field Langevin dynamics (MODELS.md section 3): noisy gradient descent on the particles
// of a MeanFieldNetwork for F(mu) = E[(f_mu(x) - y)^2 / 2] + (l2/2) E_mu|theta|^2
// + entropy * Ent(mu):
//   theta_i <- theta_i - eta * (grad_data(theta_i) + l2 * theta_i) + sqrt(2 entropy eta) xi_i
// with xi_i from Philox keyed by (particle id, step), drawn a block of particles at a time by
// core::fill_normal_rows: bitwise independent of the rank count.
// Users: the mfld experiment, tests (gradient, Ornstein-Uhlenbeck limit), benchmarks.

#include "moesim/model/mean_field_network.hpp"
#include "moesim/model/mean_field_teacher.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>

namespace moesim::model {

/// Step parameters of the dynamics.
struct LangevinParams {
    double learning_rate = 0.1; ///< eta
    double entropy = 1e-4;      ///< lambda: temperature of the entropy term (noise level)
    double l2 = 1e-3;           ///< lambda': weight decay
    std::int64_t batch = 256;   ///< fresh samples per step (online SGD)
    bool data_term = true;      ///< false: pure Ornstein-Uhlenbeck dynamics (for tests)
};

/// The particle system and its update rule.
class MeanFieldLangevin {
public:
    MeanFieldLangevin(boost::mpi::communicator comm, par::BlockPartition particles,
                      Eigen::Index dim, Activation activation, const MeanFieldTeacher& teacher,
                      LangevinParams params, std::uint64_t seed);

    /// theta_i ~ N(0, init_sd^2 I) from stream "mfld.init" keyed by particle id. Local.
    void initialize(double init_sd);

    /// One noisy gradient step on batch `step` (samples step*B .. step*B+B-1 of stream
    /// "train"). Returns the batch loss mean((f - y)^2)/2 before the update (NaN when the
    /// data term is off). Collective; independent of the rank count.
    double step(std::uint64_t step);

    /// mean((f(x) - y)^2)/2 over the given samples. Collective.
    double loss(const RowMatrix& inputs, const Eigen::VectorXd& labels);

    /// (1/N) sum_i |theta_i|^2. Collective; independent of the rank count.
    double second_moment() const;

    MeanFieldNetwork& network() noexcept { return network_; }
    const LangevinParams& params() const noexcept { return params_; }

private:
    boost::mpi::communicator comm_;
    MeanFieldNetwork network_;
    const MeanFieldTeacher& teacher_;
    LangevinParams params_;
    std::uint64_t seed_;
    RowMatrix batch_inputs_;
    Eigen::VectorXd batch_labels_;
    RowMatrix noise_; // one block's Langevin normals
};

} // namespace moesim::model
