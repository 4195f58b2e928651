// Expert capacity in the MoE layer at 1-4 ranks: the layer's outputs, expert gradients and
// processed counts equal a plain serial MoE that drops, per expert, all but the C largest
// gates (probs) or the first C tokens (position), C = ceil(c k T / E); no expert processes
// more than C slots; the drop count is exactly sum_e max(0, load_e - C); dropless drops none.

#include "testing.hpp"

#include "moesim/model/expert_capacity.hpp"
#include "moesim/model/moe_layer.hpp"
#include "moesim/model/softmax_topk_router.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <vector>

using namespace moesim;
using model::RowMatrix;
using moesim::testing::gather_all;

namespace {

std::vector<double> values(std::size_t n, double scale, double phase) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = scale * std::sin(1.7 * static_cast<double>(i) + phase) +
               0.1 * scale * std::cos(0.3 * static_cast<double>(i * i) + phase);
    return v;
}

struct Case {
    int d = 4, n_experts = 3, hidden = 2, k = 1, n = 17;
    std::uint64_t sample_block = 3, expert_block = 1;
    std::optional<double> factor = 1.0;
    model::DropPolicy policy = model::DropPolicy::probs;
};

struct Serial {
    std::vector<double> output, d_w, processed;
    double dropped = 0;
    std::uint64_t capacity = 0;
};

// Plain loops: softmax top-k (Switch gates), then per expert the slots sorted by the policy,
// the first C kept; tanh experts; gradients of sum_b dloss_b y_b for the first layers.
Serial serial_moe(const Case& c, const std::vector<double>& router, const std::vector<double>& w,
                  const std::vector<double>& a, const std::vector<double>& x,
                  const std::vector<double>& dloss) {
    Serial r;
    r.output.assign(static_cast<std::size_t>(c.n), 0.0);
    r.d_w.assign(w.size(), 0.0);
    r.processed.assign(static_cast<std::size_t>(c.n_experts), 0.0);
    // slots[e] = (sample, gate)
    std::vector<std::vector<std::pair<int, double>>> slots(static_cast<std::size_t>(c.n_experts));
    for (int b = 0; b < c.n; ++b) {
        std::vector<double> p(static_cast<std::size_t>(c.n_experts));
        double top = -1e300, sum = 0;
        for (int e = 0; e < c.n_experts; ++e) {
            double l = 0;
            for (int i = 0; i < c.d; ++i)
                l += router[static_cast<std::size_t>(e * c.d + i)] *
                     x[static_cast<std::size_t>(b * c.d + i)];
            p[static_cast<std::size_t>(e)] = l;
            top = std::max(top, l);
        }
        for (double& v : p)
            sum += (v = std::exp(v - top));
        for (double& v : p)
            v /= sum;
        std::vector<bool> taken(p.size(), false);
        for (int s = 0; s < c.k; ++s) {
            int best = -1;
            for (int e = 0; e < c.n_experts; ++e)
                if (!taken[static_cast<std::size_t>(e)] &&
                    (best < 0 || p[static_cast<std::size_t>(e)] > p[static_cast<std::size_t>(best)]))
                    best = e;
            taken[static_cast<std::size_t>(best)] = true;
            slots[static_cast<std::size_t>(best)].push_back({b, p[static_cast<std::size_t>(best)]});
        }
    }
    r.capacity = c.factor ? static_cast<std::uint64_t>(std::ceil(*c.factor * c.k * c.n /
                                                                  static_cast<double>(c.n_experts)))
                          : static_cast<std::uint64_t>(c.n * c.k);
    for (int e = 0; e < c.n_experts; ++e) {
        auto list = slots[static_cast<std::size_t>(e)];
        if (c.policy == model::DropPolicy::probs)
            std::stable_sort(list.begin(), list.end(),
                             [](const auto& u, const auto& v) { return u.second > v.second; });
        const std::size_t keep = std::min<std::size_t>(list.size(), r.capacity);
        r.dropped += static_cast<double>(list.size() - keep);
        r.processed[static_cast<std::size_t>(e)] = static_cast<double>(keep);
        for (std::size_t i = 0; i < keep; ++i) {
            const auto [b, gate] = list[i];
            for (int j = 0; j < c.hidden; ++j) {
                const int row = e * c.hidden + j;
                double z = 0;
                for (int q = 0; q < c.d; ++q)
                    z += w[static_cast<std::size_t>(row * c.d + q)] *
                         x[static_cast<std::size_t>(b * c.d + q)];
                const double t = std::tanh(z);
                r.output[static_cast<std::size_t>(b)] += gate * a[static_cast<std::size_t>(row)] * t;
                for (int q = 0; q < c.d; ++q)
                    r.d_w[static_cast<std::size_t>(row * c.d + q)] +=
                        dloss[static_cast<std::size_t>(b)] * gate *
                        a[static_cast<std::size_t>(row)] * (1 - t * t) *
                        x[static_cast<std::size_t>(b * c.d + q)];
            }
        }
    }
    return r;
}

bool close(const std::vector<double>& got, const std::vector<double>& want, double tolerance) {
    if (got.size() != want.size())
        return false;
    double scale = 1e-300;
    for (double v : want)
        scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < got.size(); ++i)
        if (std::abs(got[i] - want[i]) > tolerance * scale)
            return false;
    return true;
}

void check_case(const Case& c) {
    const auto& comm = testing::world();
    const auto router = values(static_cast<std::size_t>(c.n_experts * c.d), 0.9, 0.1);
    const auto w = values(static_cast<std::size_t>(c.n_experts * c.hidden * c.d), 0.6, 0.5);
    const auto a = values(static_cast<std::size_t>(c.n_experts * c.hidden), 1.0, 0.9);
    const auto x = values(static_cast<std::size_t>(c.n * c.d), 1.2, 0.3);
    const auto dloss = values(static_cast<std::size_t>(c.n), 0.7, 2.0);
    const Serial want = serial_moe(c, router, w, a, x, dloss);

    auto r = std::make_unique<model::SoftmaxTopKRouter>(c.d, c.n_experts, c.k);
    std::copy(router.begin(), router.end(), r->parameters().begin());
    model::MoeLayer layer(
        comm,
        par::BlockPartition(static_cast<std::uint64_t>(c.n_experts), c.expert_block, comm.size()),
        c.d, c.hidden, model::Activation::tanh, std::move(r));
    layer.set_capacity({c.factor, c.policy});
    const auto first_row = static_cast<std::size_t>(layer.local_experts().begin) * c.hidden;
    for (Eigen::Index row = 0; row < layer.expert_weights().rows(); ++row) {
        for (Eigen::Index i = 0; i < c.d; ++i)
            layer.expert_weights()(row, i) =
                w[(first_row + static_cast<std::size_t>(row)) * c.d + static_cast<std::size_t>(i)];
        layer.expert_output_weights()(row) = a[first_row + static_cast<std::size_t>(row)];
    }
    const par::BlockPartition samples(static_cast<std::uint64_t>(c.n), c.sample_block,
                                      comm.size());
    const par::IdRange mine = samples.items_of(comm.rank());
    RowMatrix inputs(static_cast<Eigen::Index>(mine.size()), c.d);
    Eigen::VectorXd local_dloss(inputs.rows());
    for (Eigen::Index b = 0; b < inputs.rows(); ++b) {
        for (Eigen::Index i = 0; i < c.d; ++i)
            inputs(b, i) = x[(mine.begin + static_cast<std::size_t>(b)) * c.d +
                             static_cast<std::size_t>(i)];
        local_dloss(b) = dloss[mine.begin + static_cast<std::size_t>(b)];
    }
    const Eigen::VectorXd out = layer.forward(samples, inputs);
    layer.backward(local_dloss);

    CHECK(layer.last_capacity() == want.capacity);
    CHECK(layer.expert_processed() == want.processed);
    const double routed = std::accumulate(layer.expert_load().begin(), layer.expert_load().end(), 0.0);
    const double kept =
        std::accumulate(layer.expert_processed().begin(), layer.expert_processed().end(), 0.0);
    CHECK(routed == c.n * c.k);
    CHECK(routed - kept == want.dropped);
    for (std::size_t e = 0; e < layer.expert_processed().size(); ++e) {
        CHECK(layer.expert_processed()[e] <= static_cast<double>(want.capacity));
        // Every expert over capacity drops exactly its excess.
        CHECK(layer.expert_processed()[e] ==
              std::min(layer.expert_load()[e], static_cast<double>(want.capacity)));
    }
    const auto output = gather_all(comm, out.data(), static_cast<std::size_t>(out.size()));
    CHECK(close(output, want.output, 1e-12));
    const auto d_w = gather_all(comm, layer.expert_weight_gradient().data(),
                                static_cast<std::size_t>(layer.expert_weight_gradient().size()));
    CHECK(close(d_w, want.d_w, 1e-12));
}

} // namespace

TEST_SUITE("model::MoeLayer capacity") {
    TEST_CASE("probs keeps each expert's C largest gates") {
        Case c;
        SUBCASE("top-1, c = 1") {}
        SUBCASE("top-2, 4 experts in blocks of 3, c = 0.75") {
            c.k = 2;
            c.n_experts = 4;
            c.expert_block = 3;
            c.factor = 0.75;
        }
        SUBCASE("c = 0.3: most slots dropped") { c.factor = 0.3; }
        check_case(c);
    }
    TEST_CASE("position keeps each expert's first C tokens") {
        Case c;
        c.policy = model::DropPolicy::position;
        SUBCASE("top-1, c = 1") {}
        SUBCASE("top-2, c = 0.6") {
            c.k = 2;
            c.factor = 0.6;
        }
        check_case(c);
    }
    TEST_CASE("dropless drops none, and a large factor drops none") {
        Case c;
        SUBCASE("dropless") { c.factor.reset(); }
        SUBCASE("c = 3 (C = T k)") { c.factor = 3.0; }
        check_case(c);
    }
    TEST_CASE("a rank with no samples and experts with no slots are safe") {
        Case c;
        c.n = 5;
        c.sample_block = 4;
        c.n_experts = 5;
        c.factor = 0.5;
        check_case(c);
    }
}
