// The mixture-of-linear-experts stream (routing.data = "linear_experts"): orthonormal gate and
// expert directions, standard normal inputs, the latent expert drawn with the teacher gate's
// softmax probabilities (uniform at rho = 0, the argmax at large rho), labels <beta_c, x> plus
// noise of the set sd, and sample b independent of how many are drawn with it.
#include "moesim/model/mixture_of_linear_experts.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

using namespace moesim;

namespace {
model::MixtureOfLinearExpertsSpec spec_of(double gate_scale, double noise = 0.0) {
    return {.dim = 12, .experts = 4, .gate_scale = gate_scale, .label_noise = noise};
}

struct Draw {
    model::RowMatrix x;
    Eigen::VectorXd y;
    std::vector<int> c;
};

Draw draw(const model::MixtureOfLinearExperts& data, std::uint64_t first, Eigen::Index count) {
    Draw d;
    data.sample("train", first, count, d.x, d.y, d.c);
    return d;
}

// <a, b> by a plain loop, independent of Eigen's dot.
double plain_dot(const Eigen::Ref<const Eigen::RowVectorXd>& a,
                 const Eigen::Ref<const Eigen::RowVectorXd>& b) {
    double sum = 0.0;
    for (Eigen::Index i = 0; i < a.size(); ++i)
        sum += a(i) * b(i);
    return sum;
}
} // namespace

TEST_SUITE("model::mixture_of_linear_experts") {
    TEST_CASE("gate and expert directions are 2C orthonormal vectors") {
        const model::MixtureOfLinearExperts data(3, spec_of(3.0));
        model::RowMatrix all(8, 12);
        all << data.gate_directions(), data.expert_directions();
        const Eigen::MatrixXd gram = all * all.transpose();
        CHECK((gram - Eigen::MatrixXd::Identity(8, 8)).cwiseAbs().maxCoeff() < 1e-13);
    }

    TEST_CASE("inputs are standard normal and labels are <beta_c, x> of the drawn expert") {
        const model::MixtureOfLinearExperts data(5, spec_of(3.0));
        const Draw d = draw(data, 0, 20000);
        const Eigen::RowVectorXd mean = d.x.colwise().mean();
        const Eigen::RowVectorXd second = d.x.cwiseProduct(d.x).colwise().mean();
        // sd of a mean of 20000 N(0,1): 0.007; of a mean of squares: 0.01.
        CHECK(mean.cwiseAbs().maxCoeff() < 0.035);
        CHECK((second.array() - 1.0).abs().maxCoeff() < 0.05);
        for (Eigen::Index b = 0; b < d.x.rows(); ++b) {
            const int c = d.c[static_cast<std::size_t>(b)];
            REQUIRE(c >= 0);
            REQUIRE(c < 4);
            CHECK(std::abs(d.y(b) - plain_dot(d.x.row(b), data.expert_directions().row(c))) <
                  1e-12);
        }
    }

    TEST_CASE("the latent expert follows the gate: uniform at rho 0, E[1{c=k} | x] = p_k(x)") {
        constexpr Eigen::Index n = 40000;
        const model::MixtureOfLinearExperts uniform(7, spec_of(0.0));
        const Draw u = draw(uniform, 0, n);
        const model::MixtureOfLinearExperts gated(7, spec_of(2.0));
        const Draw g = draw(gated, 0, n);
        Eigen::Vector4d uniform_freq = Eigen::Vector4d::Zero(), freq = Eigen::Vector4d::Zero(),
                        expected = Eigen::Vector4d::Zero();
        for (Eigen::Index b = 0; b < n; ++b) {
            uniform_freq(u.c[static_cast<std::size_t>(b)]) += 1.0 / n;
            freq(g.c[static_cast<std::size_t>(b)]) += 1.0 / n;
            // The gate's probabilities from scratch: softmax of rho <g_c, x>.
            Eigen::Vector4d p;
            for (int c = 0; c < 4; ++c)
                p(c) = std::exp(2.0 * plain_dot(g.x.row(b), gated.gate_directions().row(c)));
            expected += p / p.sum() / n;
        }
        // Each frequency has sd at most sqrt(0.25 / n) = 0.0025.
        CHECK((uniform_freq.array() - 0.25).abs().maxCoeff() < 0.01);
        CHECK((freq - expected).cwiseAbs().maxCoeff() < 0.01);
    }

    TEST_CASE("at a sharp gate the latent expert is the argmax of <g_c, x>") {
        const model::MixtureOfLinearExperts data(11, spec_of(1e6));
        const Draw d = draw(data, 0, 2000);
        for (Eigen::Index b = 0; b < d.x.rows(); ++b) {
            Eigen::Index best = 0;
            (data.gate_directions() * d.x.row(b).transpose()).maxCoeff(&best);
            CHECK(d.c[static_cast<std::size_t>(b)] == best);
        }
    }

    TEST_CASE("label noise has the set standard deviation") {
        const model::MixtureOfLinearExperts data(13, spec_of(3.0, 0.5));
        const Draw d = draw(data, 0, 20000);
        double sum_sq = 0.0;
        for (Eigen::Index b = 0; b < d.x.rows(); ++b) {
            const double noise =
                d.y(b) - plain_dot(d.x.row(b),
                                   data.expert_directions().row(d.c[static_cast<std::size_t>(b)]));
            sum_sq += noise * noise;
        }
        // The sd estimate of 20000 normals has relative sd 0.5%.
        CHECK(std::abs(std::sqrt(sum_sq / 20000) - 0.5) < 0.01);
    }

    TEST_CASE("sample b is the same bits whatever range it is drawn in") {
        const model::MixtureOfLinearExperts data(17, spec_of(3.0, 0.1));
        const Draw whole = draw(data, 100, 64);
        const Draw part = draw(data, 137, 9);
        CHECK(std::memcmp(part.x.data(), whole.x.row(37).data(), sizeof(double) * 9 * 12) == 0);
        CHECK(std::memcmp(part.y.data(), whole.y.data() + 37, sizeof(double) * 9) == 0);
        CHECK(std::equal(part.c.begin(), part.c.end(), whole.c.begin() + 37));
        // Another stream is other samples.
        model::RowMatrix x;
        Eigen::VectorXd y;
        std::vector<int> c;
        data.sample("test", 100, 64, x, y, c);
        CHECK(std::memcmp(x.data(), whole.x.data(), sizeof(double) * 12) != 0);
    }
}
