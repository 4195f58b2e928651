#pragma once
// Mean-field Langevin dynamics of arXiv 2502.05784 on a fixed training set (MODELS.md 3.1):
// full-batch noisy gradient descent on the N particles of a ScaledTanhNetwork for
//   F(mu) = (1/n) sum_b l(f_mu(z_b), y_b) + l2 E_mu|theta|^2 + entropy Ent(mu),
// with the l2 term written WITHOUT a 1/2 (the paper's lambda' E|theta|^2), so its first
// variation has gradient 2 l2 theta, and one step is
//   theta_i <- theta_i - eta (grad_theta dL/dmu (theta_i) + 2 l2 theta_i) + sqrt(2 entropy eta)
//   xi_i
// with xi_i ~ N(0, I) from Philox keyed by (particle id, step): bitwise independent of the
// rank count. Without data the particles are an Ornstein-Uhlenbeck process with stationary
// variance entropy / (2 l2) per coordinate, the Gibbs law exp(-l2 |theta|^2 / entropy).
// Users: the propagation-of-chaos experiment, its benchmark and tests.

#include "moesim/model/knn_entropy.hpp"
#include "moesim/model/labelled_data.hpp"
#include "moesim/model/prediction_loss.hpp"
#include "moesim/model/scaled_tanh_network.hpp"

#include <boost/mpi/communicator.hpp>

#include <cstdint>
#include <optional>

namespace moesim::model {

struct FullBatchLangevinParams {
    double learning_rate = 0.1; ///< eta
    double l2 = 0.1;            ///< lambda' of lambda' E|theta|^2 (no 1/2)
    double entropy = 0.01;      ///< lambda: weight of Ent, i.e. the noise temperature
    double scale = 10.0;        ///< R of the neuron
    PredictionLoss loss = PredictionLoss::logistic;
};

/// The terms of F at the current particles (collective to compute, equal on every rank).
struct ObjectiveTerms {
    double loss = 0;          ///< (1/n) sum_b l(f(z_b), y_b)
    double second_moment = 0; ///< (1/N) sum_i |theta_i|^2
    double entropy = 0;       ///< H_hat, the k-NN estimate of -Ent (model/knn_entropy.hpp)
    /// loss + l2 second_moment - lambda H_hat: the full objective F (with the estimator's
    /// bias times lambda).
    double free_energy(const FullBatchLangevinParams& params) const {
        return loss + params.l2 * second_moment - params.entropy * entropy;
    }
};

/// The seed of system `system` of a run with root seed `root`: one Philox draw keyed by
/// (root, "poc.system", system), so independent systems get unrelated streams. Local.
std::uint64_t system_seed(std::uint64_t root, std::uint64_t system);

/// One N-particle system and its update rule.
class FullBatchLangevin {
public:
    /// `train` must outlive this object and be the same on every rank (its rows are the
    /// batch of every step). `seed` keys this system's init and noise (see system_seed).
    FullBatchLangevin(boost::mpi::communicator comm, par::BlockPartition particles,
                      const LabelledData& train, FullBatchLangevinParams params,
                      std::uint64_t seed);

    /// theta_i ~ N(0, init_sd^2 I) from stream "poc.init" keyed by particle id. Local.
    void initialize(double init_sd);

    /// One full-batch noisy gradient step, the noise keyed by `step` (< 2^32). Returns the
    /// training loss before the update. Collective; bitwise independent of the rank count.
    double step(std::uint64_t step);

    /// For each local particle, grad_theta dF/dmu without the entropy term:
    /// grad_theta dL/dmu (theta_i) + 2 l2 theta_i, i.e. N times the gradient of the finite-N
    /// objective L(mu_N) + l2 (1/N) sum_i |theta_i|^2 with respect to theta_i.
    /// Returns n_local x (d + 2). Collective (one forward pass).
    RowMatrix drift();

    /// (1/n) sum_b l(f(z_b), y_b) over `data`. Collective; independent of the rank count.
    double loss(const LabelledData& data) const;

    /// loss(train) by the forward pass the next step() needs, which that step then reuses
    /// instead of repeating it (a frame's training loss costs nothing extra), with the same
    /// bits as loss(train) and as that step's own forward pass. Valid until the particles
    /// change other than by step(). Collective; independent of the rank count.
    double train_loss();
    /// f(z_b) for every row of `data.inputs`. Collective; independent of the rank count.
    Eigen::VectorXd predict(const LabelledData& data) const {
        return network_.predict(data.inputs);
    }
    /// (1/N) sum_i |theta_i|^2. Collective; independent of the rank count.
    double second_moment() const;
    /// The k-NN entropy estimate of the particle cloud (model/knn_entropy.hpp). Collective;
    /// independent of the rank count.
    double entropy(const KnnEntropyOptions& options = {}) const;

    /// loss on `data`, second moment and the k-NN entropy of the particle cloud.
    /// Collective; independent of the rank count.
    ObjectiveTerms objective_terms(const LabelledData& data,
                                   const KnnEntropyOptions& entropy = {}) const;

    ScaledTanhNetwork& network() noexcept { return network_; }
    const ScaledTanhNetwork& network() const noexcept { return network_; }
    const FullBatchLangevinParams& params() const noexcept { return params_; }
    std::uint64_t seed() const noexcept { return seed_; }

private:
    boost::mpi::communicator comm_;
    ScaledTanhNetwork network_;
    const LabelledData& train_;
    FullBatchLangevinParams params_;
    std::uint64_t seed_;
    // The training-set predictions of train_loss()'s forward pass, for the next step().
    std::optional<Eigen::VectorXd> forward_done_;
};

} // namespace moesim::model
