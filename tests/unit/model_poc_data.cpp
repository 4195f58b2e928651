// The paper's two data sets (MODELS.md 3.1): the law of each sample (radii, noise, angles,
// the uniform ball, the label formula), that sample b does not depend on how many are drawn,
// and the 80/20 split.
#include "moesim/model/concentric_circles.hpp"
#include "moesim/model/multi_index_regression.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

using namespace moesim;

namespace {
bool same_bits(const model::RowMatrix& a, const model::RowMatrix& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}
} // namespace

TEST_SUITE("model::concentric_circles") {
    TEST_CASE("inner points have radius 1 and label -1, outer radius 2 and +1, noise sd 0.1") {
        const model::ConcentricCirclesParams params{.samples = 4000};
        const model::LabelledData data = model::concentric_circles(7, params);
        REQUIRE(data.size() == 4000);
        REQUIRE(data.dim() == 2);
        for (double label : {-1.0, 1.0}) {
            const double radius = label < 0 ? 1.0 : 2.0;
            double sum = 0, sum_sq = 0, cos_sum = 0;
            int count = 0;
            for (Eigen::Index b = 0; b < data.size(); ++b) {
                if (data.labels(b) != label)
                    continue;
                CHECK((b % 2 == 1) == (label > 0));
                const double r = data.inputs.row(b).norm();
                sum += r - radius;
                sum_sq += (r - radius) * (r - radius);
                cos_sum += data.inputs(b, 0) / r;
                ++count;
            }
            CHECK(count == 2000);
            // Radial deviation ~ N(sigma^2 / (2 r), sigma^2) to first order, sigma = 0.1.
            const double mean = sum / count;
            const double sd = std::sqrt(sum_sq / count - mean * mean);
            CAPTURE(label);
            CHECK(std::abs(mean - 0.01 / (2 * radius)) < 4 * 0.1 / std::sqrt(2000.0));
            CHECK(sd == doctest::Approx(0.1).epsilon(0.06));
            // Uniform angle: E cos = 0, sd 1/sqrt(2) per point.
            CHECK(std::abs(cos_sum / count) < 4 * 0.7071 / std::sqrt(2000.0));
        }
    }

    TEST_CASE("sample b is the same whatever the sample count, and the seed matters") {
        const auto big = model::concentric_circles(7, {.samples = 200});
        const auto small = model::concentric_circles(7, {.samples = 50});
        CHECK(same_bits(big.inputs.topRows(50), small.inputs));
        CHECK(big.labels.head(50) == small.labels);
        const auto other = model::concentric_circles(8, {.samples = 50});
        CHECK(!same_bits(other.inputs, small.inputs));
    }

    TEST_CASE("the 80/20 split of 200 points is 160 training and 40 test points, balanced") {
        const auto data = model::concentric_circles(1, {});
        const auto split = model::split_train_test(data, 0.8);
        CHECK(split.train.size() == 160);
        CHECK(split.test.size() == 40);
        CHECK(same_bits(split.train.inputs, data.inputs.topRows(160)));
        CHECK(same_bits(split.test.inputs, data.inputs.bottomRows(40)));
        CHECK(split.train.labels.sum() == 0.0);
        CHECK(split.test.labels.sum() == 0.0);
    }
}

TEST_SUITE("model::multi_index_regression") {
    TEST_CASE("inputs are uniform in the ball of radius 5 and y = (1/k) sum_j tanh(z_j)") {
        const model::MultiIndexParams params{.samples = 2000};
        const model::LabelledData data = model::multi_index_regression(11, params);
        REQUIRE(data.size() == 2000);
        REQUIRE(data.dim() == 100);
        int inside_099 = 0;
        double first_sq = 0, first = 0;
        bool labels_ok = true, bounded = true;
        for (Eigen::Index b = 0; b < data.size(); ++b) {
            const double r = data.inputs.row(b).norm();
            bounded = bounded && r <= 5.0 * (1 + 1e-12);
            inside_099 += r <= 0.99 * 5.0;
            first += data.inputs(b, 0);
            first_sq += data.inputs(b, 0) * data.inputs(b, 0);
            double sum = 0;
            for (Eigen::Index j = 0; j < 100; ++j)
                sum += std::tanh(data.inputs(b, j));
            labels_ok = labels_ok && data.labels(b) == 1.0 * sum / 100.0;
        }
        CHECK(bounded);
        CHECK(labels_ok);
        // P(|z| <= t r) = t^d for the uniform ball: 0.99^100 = 0.366.
        const double p = std::pow(0.99, 100);
        CHECK(std::abs(inside_099 / 2000.0 - p) < 4 * std::sqrt(p * (1 - p) / 2000));
        // E z_0 = 0 and E z_0^2 = r^2 / (d + 2) for the uniform ball.
        const double second = 25.0 / 102.0;
        CHECK(std::abs(first / 2000) < 4 * std::sqrt(second / 2000));
        CHECK(first_sq / 2000 == doctest::Approx(second).epsilon(4 * std::sqrt(2.0 / 2000)));
    }

    TEST_CASE("the radius law, the label scale Rbar and k are configurable") {
        const model::MultiIndexParams base{.samples = 400, .dim = 10, .indices = 3};
        const auto ball = model::multi_index_regression(2, base);
        auto params = base;
        params.label_scale = 100.0;
        const auto scaled = model::multi_index_regression(2, params);
        CHECK(same_bits(scaled.inputs, ball.inputs));
        for (Eigen::Index b = 0; b < 400; ++b) {
            double sum = 0;
            for (Eigen::Index j = 0; j < 3; ++j)
                sum += std::tanh(ball.inputs(b, j));
            CHECK(ball.labels(b) == sum / 3.0);
            CHECK(scaled.labels(b) == doctest::Approx(100.0 * ball.labels(b)));
        }
        params = base;
        params.radius_law = model::parse_radius_law("sphere");
        const auto sphere = model::multi_index_regression(2, params);
        params.radius_law = model::parse_radius_law("uniform_radius");
        const auto uniform = model::multi_index_regression(2, params);
        double mean_radius = 0;
        for (Eigen::Index b = 0; b < 400; ++b) {
            CHECK(sphere.inputs.row(b).norm() == doctest::Approx(5.0));
            mean_radius += uniform.inputs.row(b).norm() / 400;
        }
        // |z| uniform on [0, 5]: mean 2.5, sd 5/sqrt(12).
        CHECK(std::abs(mean_radius - 2.5) < 4 * 5 / std::sqrt(12.0 * 400));
        CHECK(model::radius_law_names().size() == 3);
    }
}
