#pragma once
// Mixture-of-linear-experts data (MODELS.md section 5, the routing experiment's second
// stream): x ~ N(0, I_d); a latent expert c in {0..C-1} drawn with probability
// softmax_c(rho <g_c, x>), a softmax gate of C orthonormal gate directions g_c with sharpness
// rho; y = <beta_c, x> + noise with C orthonormal expert directions beta_c, orthogonal to every
// g_c. The gate's regions are the task's latent clusters. Every sample is a pure function of
// (seed, stream, global sample id), so any rank can generate any sample. Users: the routing
// experiment, tests.

#include "moesim/model/row_matrix.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace moesim::model {

/// The data model's parameters.
struct MixtureOfLinearExpertsSpec {
    Eigen::Index dim = 32;
    int experts = 4;          ///< C
    double gate_scale = 3.0;  ///< rho: 0 draws c uniformly, large rho takes argmax <g_c, x>
    double label_noise = 0.0; ///< standard deviation of Gaussian label noise
};

/// A generator of mixture-of-linear-experts samples. Local; const and thread-safe.
class MixtureOfLinearExperts {
public:
    /// The geometry (g_c, then beta_c) comes from Gram-Schmidt on Gaussian vectors of stream
    /// "linear_experts.geometry" keyed by vector index. Throws core::InternalError unless
    /// experts >= 1 and dim >= vectors_needed(); configs validate first.
    MixtureOfLinearExperts(std::uint64_t seed, MixtureOfLinearExpertsSpec spec);

    /// Samples [first_id, first_id + count) of stream `stream` ("train", "test"): inputs
    /// (count x dim), labels (count) and latent experts (count). Philox key (seed,
    /// "linear_experts.data.<stream>"), counter (global sample id, 0, draw): draw 0 picks the
    /// expert (inverse CDF of the gate's probabilities), draw 1 the label noise, draws 2.. x.
    /// Local; a pure function of the arguments.
    void sample(const std::string& stream, std::uint64_t first_id, Eigen::Index count,
                RowMatrix& inputs, Eigen::VectorXd& labels, std::vector<int>& experts) const;

    /// The teacher gate's probabilities softmax_c(rho <g_c, x>) of one input. Local.
    Eigen::VectorXd gate_probabilities(const Eigen::Ref<const Eigen::RowVectorXd>& x) const;

    /// Orthonormal vectors dim must hold: 2 C.
    static Eigen::Index vectors_needed(const MixtureOfLinearExpertsSpec& spec) noexcept {
        return 2 * static_cast<Eigen::Index>(spec.experts);
    }

    const MixtureOfLinearExpertsSpec& spec() const noexcept { return spec_; }
    /// Unit gate directions g_c, one row per expert (C x dim).
    const RowMatrix& gate_directions() const noexcept { return gates_; }
    /// Unit expert directions beta_c, one row per expert (C x dim).
    const RowMatrix& expert_directions() const noexcept { return betas_; }

private:
    std::uint64_t seed_;
    MixtureOfLinearExpertsSpec spec_;
    RowMatrix gates_, betas_;
};

} // namespace moesim::model
