#include "moesim/model/mixture_of_linear_experts.hpp"

#include "moesim/core/error.hpp"
#include "moesim/core/philox.hpp"
#include "moesim/model/orthonormal_rows.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::model {

MixtureOfLinearExperts::MixtureOfLinearExperts(std::uint64_t seed, MixtureOfLinearExpertsSpec spec)
    : seed_(seed), spec_(spec) {
    core::require(spec_.experts >= 1, "MixtureOfLinearExperts: need at least one expert");
    const Eigen::Index n_vectors = vectors_needed(spec_);
    core::require(spec_.dim >= n_vectors, "MixtureOfLinearExperts: dim below the vectors needed");
    // The same geometry on every rank.
    const RowMatrix basis = orthonormal_gaussian_rows(
        core::Philox(seed_, "linear_experts.geometry"), n_vectors, spec_.dim);
    gates_ = basis.topRows(spec_.experts);
    betas_ = basis.bottomRows(spec_.experts);
}

Eigen::VectorXd
MixtureOfLinearExperts::gate_probabilities(const Eigen::Ref<const Eigen::RowVectorXd>& x) const {
    // Row by row: a one-row dot product has the same bits whatever batch x came from.
    Eigen::VectorXd p(spec_.experts);
    for (int c = 0; c < spec_.experts; ++c)
        p(c) = spec_.gate_scale * x.dot(gates_.row(c));
    const double top = p.maxCoeff();
    double sum = 0.0;
    for (int c = 0; c < spec_.experts; ++c) {
        p(c) = std::exp(p(c) - top);
        sum += p(c);
    }
    return p / sum;
}

void MixtureOfLinearExperts::sample(const std::string& stream, std::uint64_t first_id,
                                    Eigen::Index count, RowMatrix& inputs, Eigen::VectorXd& labels,
                                    std::vector<int>& experts) const {
    const core::Philox rng(seed_, "linear_experts.data." + stream);
    const Eigen::Index d = spec_.dim;
    inputs.resize(count, d);
    labels.resize(count);
    experts.resize(static_cast<std::size_t>(count));
    for (Eigen::Index b = 0; b < count; ++b) {
        const std::uint64_t id = first_id + static_cast<std::uint64_t>(b);
        rng.fill_normal(id, 0, std::span<double>(inputs.row(b).data(), static_cast<std::size_t>(d)),
                        2);
        const Eigen::VectorXd p = gate_probabilities(inputs.row(b));
        const double u = rng.uniform_pair(id, 0, 0)[0];
        int c = 0;
        double below = p(0);
        while (c + 1 < spec_.experts && u >= below)
            below += p(++c);
        experts[static_cast<std::size_t>(b)] = c;
        labels(b) = inputs.row(b).dot(betas_.row(c));
        if (spec_.label_noise > 0)
            labels(b) += spec_.label_noise * rng.normal_pair(id, 0, 1)[0];
    }
}

} // namespace moesim::model
