#include "testing.hpp"

#include "moesim/model/moe_layer.hpp"
#include "moesim/model/softmax_topk_router.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

using namespace moesim;
using model::RowMatrix;

using moesim::testing::gather_all;

namespace {

// A whole MoE written as plain loops: router W (E x d), experts' first layers w (E*m x d),
// output weights a (E*m), tanh experts, softmax top-k gates (ties to the lower id), not
// renormalised. Shares nothing with model::MoeLayer.
struct SerialMoe {
    int d, n_experts, hidden, k;
    std::vector<double> router, w, a;

    struct Result {
        std::vector<double> output, d_router, d_w, d_a, d_x;
        std::vector<int> load;
    };

    // Outputs for every sample, and the gradients of sum_b dloss[b] * output[b].
    Result run(const std::vector<double>& x, int n, const std::vector<double>& dloss) const {
        Result r;
        r.output.assign(n, 0.0);
        r.d_router.assign(router.size(), 0.0);
        r.d_w.assign(w.size(), 0.0);
        r.d_a.assign(a.size(), 0.0);
        r.d_x.assign(x.size(), 0.0);
        r.load.assign(n_experts, 0);
        for (int b = 0; b < n; ++b) {
            const double* xb = &x[b * d];
            std::vector<double> p(n_experts);
            double top = -1e300, sum = 0;
            for (int e = 0; e < n_experts; ++e) {
                p[e] = 0;
                for (int i = 0; i < d; ++i)
                    p[e] += router[e * d + i] * xb[i];
                top = std::max(top, p[e]);
            }
            for (int e = 0; e < n_experts; ++e)
                sum += (p[e] = std::exp(p[e] - top));
            for (int e = 0; e < n_experts; ++e)
                p[e] /= sum;
            std::vector<int> chosen;
            std::vector<bool> taken(n_experts, false);
            for (int s = 0; s < k; ++s) {
                int best = -1;
                for (int e = 0; e < n_experts; ++e)
                    if (!taken[e] && (best < 0 || p[e] > p[best]))
                        best = e;
                taken[best] = true;
                chosen.push_back(best);
            }
            std::vector<double> h(n_experts, 0.0);
            for (int e : chosen) {
                ++r.load[e];
                for (int j = 0; j < hidden; ++j) {
                    const int row = e * hidden + j;
                    double z = 0;
                    for (int i = 0; i < d; ++i)
                        z += w[row * d + i] * xb[i];
                    const double t = std::tanh(z);
                    h[e] += a[row] * t;
                    r.d_a[row] += dloss[b] * p[e] * t;
                    for (int i = 0; i < d; ++i) {
                        r.d_w[row * d + i] += dloss[b] * p[e] * a[row] * (1 - t * t) * xb[i];
                        r.d_x[b * d + i] += dloss[b] * p[e] * a[row] * (1 - t * t) * w[row * d + i];
                    }
                }
                r.output[b] += p[e] * h[e];
            }
            // d output / d logit_j = sum_{e chosen} h_e p_e (delta_je - p_j)
            for (int j = 0; j < n_experts; ++j) {
                double dl = 0;
                for (int e : chosen)
                    dl += h[e] * p[e] * ((e == j ? 1.0 : 0.0) - p[j]);
                for (int i = 0; i < d; ++i) {
                    r.d_router[j * d + i] += dloss[b] * dl * xb[i];
                    r.d_x[b * d + i] += dloss[b] * dl * router[j * d + i];
                }
            }
        }
        return r;
    }
};

// Deterministic, irregular test values.
std::vector<double> values(std::size_t n, double scale, double phase) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = scale * std::sin(1.7 * static_cast<double>(i) + phase) +
               0.1 * scale * std::cos(0.3 * static_cast<double>(i * i) + phase);
    return v;
}

struct Setup {
    int d = 4, n_experts = 3, hidden = 2, k = 1;
    int n_samples = 13;
    std::uint64_t sample_block = 3, expert_block = 1;
};

SerialMoe make_serial(const Setup& s) {
    SerialMoe moe{s.d, s.n_experts, s.hidden, s.k, {}, {}, {}};
    moe.router = values(static_cast<std::size_t>(s.n_experts * s.d), 0.8, 0.1);
    moe.w = values(static_cast<std::size_t>(s.n_experts * s.hidden * s.d), 0.6, 0.5);
    moe.a = values(static_cast<std::size_t>(s.n_experts * s.hidden), 1.0, 0.9);
    return moe;
}

// A layer on `comm` holding the serial model's parameters.
model::MoeLayer make_layer(const boost::mpi::communicator& comm, const Setup& s,
                           const SerialMoe& moe) {
    auto router = std::make_unique<model::SoftmaxTopKRouter>(s.d, s.n_experts, s.k);
    std::copy(moe.router.begin(), moe.router.end(), router->parameters().begin());
    model::MoeLayer layer(
        comm,
        par::BlockPartition(static_cast<std::uint64_t>(s.n_experts), s.expert_block, comm.size()),
        s.d, s.hidden, model::Activation::tanh, std::move(router));
    const auto first_row = static_cast<std::size_t>(layer.local_experts().begin) * s.hidden;
    auto& w = layer.expert_weights();
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
        for (Eigen::Index i = 0; i < s.d; ++i)
            w(r, i) = moe.w[(first_row + static_cast<std::size_t>(r)) * s.d +
                            static_cast<std::size_t>(i)];
        layer.expert_output_weights()(r) = moe.a[first_row + static_cast<std::size_t>(r)];
    }
    return layer;
}

RowMatrix local_rows(const std::vector<double>& all, int d, par::IdRange ids) {
    RowMatrix rows(static_cast<Eigen::Index>(ids.size()), d);
    for (Eigen::Index r = 0; r < rows.rows(); ++r)
        for (Eigen::Index i = 0; i < d; ++i)
            rows(r, i) = all[(ids.begin + static_cast<std::uint64_t>(r)) * d +
                             static_cast<std::uint64_t>(i)];
    return rows;
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

// Runs the layer and the serial MoE on the same batch and compares outputs and gradients
// (to 1e-12 of each quantity's largest entry). Returns the layer's expert load.
std::vector<double> compare_with_serial(const boost::mpi::communicator& comm, const Setup& s,
                                        const SerialMoe& moe, const std::vector<double>& x) {
    const std::vector<double> dloss_all = values(static_cast<std::size_t>(s.n_samples), 0.7, 2.0);
    const auto serial = moe.run(x, s.n_samples, dloss_all);

    auto layer = make_layer(comm, s, moe);
    const par::BlockPartition samples(static_cast<std::uint64_t>(s.n_samples), s.sample_block,
                                      comm.size());
    const par::IdRange mine = samples.items_of(comm.rank());
    const Eigen::VectorXd out = layer.forward(samples, local_rows(x, s.d, mine));
    Eigen::VectorXd dloss(out.size());
    for (Eigen::Index i = 0; i < dloss.size(); ++i)
        dloss(i) = dloss_all[mine.begin + static_cast<std::uint64_t>(i)];
    layer.backward(dloss);

    const auto output = gather_all(comm, out.data(), static_cast<std::size_t>(out.size()));
    const auto d_w = gather_all(comm, layer.expert_weight_gradient().data(),
                                static_cast<std::size_t>(layer.expert_weight_gradient().size()));
    const auto d_a =
        gather_all(comm, layer.expert_output_weight_gradient().data(),
                   static_cast<std::size_t>(layer.expert_output_weight_gradient().size()));
    CHECK(close(output, serial.output, 1e-12));
    CHECK(close(d_w, serial.d_w, 1e-12));
    CHECK(close(d_a, serial.d_a, 1e-12));
    CHECK(close(layer.router_gradient(), serial.d_router, 1e-12));
    const auto d_x = gather_all(comm, layer.input_gradient().data(),
                                static_cast<std::size_t>(layer.input_gradient().size()));
    CHECK(close(d_x, serial.d_x, 1e-12));
    std::vector<double> serial_load(serial.load.begin(), serial.load.end());
    CHECK(layer.expert_load() == serial_load);
    return layer.expert_load();
}

} // namespace

TEST_SUITE("model::MoeLayer") {
    TEST_CASE("forward and backward equal a plain serial MoE on the same batch") {
        const auto& comm = testing::world();
        Setup s;
        SUBCASE("top-1, 3 experts in blocks of 1") {}
        SUBCASE("top-2, 4 experts in blocks of 3") {
            s.n_experts = 4;
            s.k = 2;
            s.expert_block = 3;
        }
        SUBCASE("dense softmax over 2 experts, more ranks than experts") {
            s.n_experts = 2;
            s.k = 2;
            s.hidden = 3;
            s.n_samples = 5;
            s.sample_block = 4;
        }
        const SerialMoe moe = make_serial(s);
        const auto x = values(static_cast<std::size_t>(s.n_samples * s.d), 1.2, 0.3);
        const auto load = compare_with_serial(comm, s, moe, x);
        double total = 0;
        for (double l : load)
            total += l;
        CHECK(total == s.n_samples * s.k);
    }

    TEST_CASE("without input gradients the parameter gradients keep their bits") {
        const auto& comm = testing::world();
        Setup s;
        s.n_experts = 4;
        s.k = 2;
        const SerialMoe moe = make_serial(s);
        const auto x = values(static_cast<std::size_t>(s.n_samples * s.d), 1.2, 0.3);
        const std::vector<double> dloss_all =
            values(static_cast<std::size_t>(s.n_samples), 0.7, 2.0);
        const auto serial = moe.run(x, s.n_samples, dloss_all);
        const par::BlockPartition samples(static_cast<std::uint64_t>(s.n_samples), s.sample_block,
                                          comm.size());
        const par::IdRange mine = samples.items_of(comm.rank());
        Eigen::VectorXd dloss(static_cast<Eigen::Index>(mine.size()));
        for (Eigen::Index i = 0; i < dloss.size(); ++i)
            dloss(i) = dloss_all[mine.begin + static_cast<std::uint64_t>(i)];
        auto with = make_layer(comm, s, moe);
        auto without = make_layer(comm, s, moe);
        without.set_input_gradient(false);
        CHECK(with.input_gradient_on());
        CHECK_FALSE(without.input_gradient_on());
        for (auto* layer : {&with, &without}) {
            layer->forward(samples, local_rows(x, s.d, mine));
            layer->backward(dloss);
        }
        CHECK(without.input_gradient().size() == 0);
        CHECK(with.expert_weight_gradient() == without.expert_weight_gradient());
        CHECK(with.expert_output_weight_gradient() == without.expert_output_weight_gradient());
        CHECK(with.router_gradient() == without.router_gradient());
        // ... and those bits are the right gradients (the serial MoE's, to rounding).
        const auto d_w =
            gather_all(comm, without.expert_weight_gradient().data(),
                       static_cast<std::size_t>(without.expert_weight_gradient().size()));
        CHECK(close(d_w, serial.d_w, 1e-12));
        CHECK(close(without.router_gradient(), serial.d_router, 1e-12));
    }

    TEST_CASE("without input gradients and expert counts the gradients are the same bits") {
        const auto& comm = testing::world();
        Setup s;
        s.n_experts = 4;
        s.k = 2;
        s.expert_block = 3;
        const SerialMoe moe = make_serial(s);
        const auto x = values(static_cast<std::size_t>(s.n_samples * s.d), 1.2, 0.3);
        const par::BlockPartition samples(static_cast<std::uint64_t>(s.n_samples), s.sample_block,
                                          comm.size());
        const par::IdRange mine = samples.items_of(comm.rank());
        auto with = make_layer(comm, s, moe);
        auto without = make_layer(comm, s, moe);
        without.set_input_gradient(false);
        without.set_expert_counts(false); // nor the expert counts
        for (auto* layer : {&with, &without}) {
            const Eigen::VectorXd out = layer->forward(samples, local_rows(x, s.d, mine));
            layer->backward(out); // dloss = output: any values will do
        }
        CHECK(with.expert_weight_gradient() == without.expert_weight_gradient());
        CHECK(with.expert_output_weight_gradient() == without.expert_output_weight_gradient());
        CHECK(with.router_gradient() == without.router_gradient());
    }

    TEST_CASE("experts that get no samples keep zero gradients and still take part") {
        const auto& comm = testing::world();
        Setup s;
        s.n_experts = 4;
        SerialMoe moe = make_serial(s);
        // Logits +-5 x_0 for experts 0 and 1, 0 for 2 and 3: top-1 never picks 2 or 3.
        std::fill(moe.router.begin(), moe.router.end(), 0.0);
        moe.router[0] = 5.0;
        moe.router[static_cast<std::size_t>(s.d)] = -5.0;
        auto x = values(static_cast<std::size_t>(s.n_samples * s.d), 1.2, 0.3);
        for (int b = 0; b < s.n_samples; ++b)
            x[static_cast<std::size_t>(b * s.d)] = (b % 3 == 0 ? -1.0 : 1.0) * (0.5 + 0.1 * b);
        const auto load = compare_with_serial(comm, s, moe, x);
        CHECK(load == std::vector<double>{8, 5, 0, 0});
    }

    TEST_CASE("a step in which all samples go to one expert") {
        const auto& comm = testing::world();
        Setup s;
        SerialMoe moe = make_serial(s);
        std::fill(moe.router.begin(), moe.router.end(), 0.0);
        moe.router[static_cast<std::size_t>(2 * s.d)] = 5.0; // expert 2 wins for x_0 > 0
        auto x = values(static_cast<std::size_t>(s.n_samples * s.d), 1.2, 0.3);
        for (int b = 0; b < s.n_samples; ++b)
            x[static_cast<std::size_t>(b * s.d)] = 0.5 + 0.1 * b;
        const auto load = compare_with_serial(comm, s, moe, x);
        CHECK(load == std::vector<double>{0, 0, 13});
    }

    TEST_CASE("gradients match finite differences of the squared loss") {
        const auto& comm = testing::world();
        Setup s;
        SUBCASE("top-1") {}
        SUBCASE("top-2 of 3") {
            s.k = 2;
        }
        const SerialMoe moe = make_serial(s);
        const auto x = values(static_cast<std::size_t>(s.n_samples * s.d), 1.2, 0.3);
        const auto y_all = values(static_cast<std::size_t>(s.n_samples), 1.0, 4.0);
        auto layer = make_layer(comm, s, moe);
        const par::BlockPartition samples(static_cast<std::uint64_t>(s.n_samples), s.sample_block,
                                          comm.size());
        const par::IdRange mine = samples.items_of(comm.rank());
        const RowMatrix inputs = local_rows(x, s.d, mine);
        Eigen::VectorXd y(static_cast<Eigen::Index>(mine.size()));
        for (Eigen::Index i = 0; i < y.size(); ++i)
            y(i) = y_all[mine.begin + static_cast<std::uint64_t>(i)];
        RowMatrix inputs_now = inputs;
        // L = mean_b (f_b - y_b)^2 / 2, summed over sample blocks.
        auto loss_at = [&](const RowMatrix& at) {
            const Eigen::VectorXd r = layer.forward(samples, at) - y;
            std::vector<double> squares(static_cast<std::size_t>(r.size()));
            for (Eigen::Index i = 0; i < r.size(); ++i)
                squares[static_cast<std::size_t>(i)] = 0.5 * r(i) * r(i);
            return par::deterministic_sum(comm, samples, squares) / s.n_samples;
        };
        const Eigen::VectorXd residual = layer.forward(samples, inputs) - y;
        layer.backward(residual / s.n_samples);
        const RowMatrix d_x = layer.input_gradient();
        auto loss = [&]() { return loss_at(inputs); };
        const std::vector<double> d_router = layer.router_gradient();
        const RowMatrix d_w = layer.expert_weight_gradient();
        const Eigen::VectorXd d_a = layer.expert_output_weight_gradient();

        const double h = 1e-6;
        bool ok = true;
        auto check = [&](double analytic, double fd) {
            CHECK(analytic == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
            ok = ok && std::abs(analytic - fd) < 1e-6 * (1 + std::abs(fd));
        };
        // Router parameters are replicated: every rank perturbs them.
        auto params = layer.router().parameters();
        for (std::size_t p = 0; p < params.size(); ++p) {
            const double saved = params[p];
            params[p] = saved + h;
            const double plus = loss();
            params[p] = saved - h;
            const double minus = loss();
            params[p] = saved;
            CAPTURE(p);
            check(d_router[p], (plus - minus) / (2 * h));
        }
        // Expert parameters: every rank loops over all of them, the owner perturbs.
        const auto n_rows = static_cast<std::uint64_t>(s.n_experts * s.hidden);
        const std::uint64_t first =
            layer.local_experts().begin * static_cast<std::uint64_t>(s.hidden);
        const std::uint64_t last = layer.local_experts().end * static_cast<std::uint64_t>(s.hidden);
        for (std::uint64_t row = 0; row < n_rows; ++row)
            for (int i = -1; i < s.d; ++i) { // i = -1: the output weight a
                const bool owner = row >= first && row < last;
                const auto r = static_cast<Eigen::Index>(row - (owner ? first : 0));
                double* param = !owner  ? nullptr
                                : i < 0 ? &layer.expert_output_weights()(r)
                                        : &layer.expert_weights()(r, i);
                const double saved = owner ? *param : 0.0;
                if (owner)
                    *param = saved + h;
                const double plus = loss();
                if (owner)
                    *param = saved - h;
                const double minus = loss();
                if (owner) {
                    *param = saved;
                    CAPTURE(row);
                    CAPTURE(i);
                    check(i < 0 ? d_a(r) : d_w(r, i), (plus - minus) / (2 * h));
                }
            }
        // Inputs: every rank loops over all samples, the sample's owner perturbs it.
        for (std::uint64_t b = 0; b < static_cast<std::uint64_t>(s.n_samples); ++b)
            for (int i = 0; i < s.d; ++i) {
                const bool owner = mine.contains(b);
                const auto row = static_cast<Eigen::Index>(owner ? b - mine.begin : 0);
                const double saved = owner ? inputs_now(row, i) : 0.0;
                if (owner)
                    inputs_now(row, i) = saved + h;
                const double plus = loss_at(inputs_now);
                if (owner)
                    inputs_now(row, i) = saved - h;
                const double minus = loss_at(inputs_now);
                if (owner) {
                    inputs_now(row, i) = saved;
                    CAPTURE(b);
                    CAPTURE(i);
                    check(d_x(row, i), (plus - minus) / (2 * h));
                }
            }
        CHECK(testing::all_ranks(comm, ok));
    }

    TEST_CASE("SGD steps have the same bits on every communicator size") {
        const auto& world = testing::world();
        Setup s;
        SUBCASE("3 experts, top-1") {
            s.n_samples = 10;
            s.sample_block = 4;
        }
        SUBCASE("2 experts, top-2, more ranks than experts") {
            s.n_experts = 2;
            s.k = 2;
            s.n_samples = 10;
            s.sample_block = 4;
        }
        const SerialMoe moe = make_serial(s);
        std::vector<double> reference;
        for (int size = 1; size <= world.size(); ++size) {
            const bool member = world.rank() < size;
            const auto sub = world.split(member ? 0 : 1);
            std::vector<double> result;
            if (member) {
                auto layer = make_layer(sub, s, moe);
                const par::BlockPartition samples(static_cast<std::uint64_t>(s.n_samples),
                                                  s.sample_block, size);
                const par::IdRange mine = samples.items_of(sub.rank());
                for (int step = 0; step < 5; ++step) {
                    const auto x =
                        values(static_cast<std::size_t>(s.n_samples * s.d), 1.2, 0.3 + step);
                    const auto y = values(static_cast<std::size_t>(s.n_samples), 1.0, 4.0 + step);
                    const Eigen::VectorXd out = layer.forward(samples, local_rows(x, s.d, mine));
                    Eigen::VectorXd dloss(out.size());
                    for (Eigen::Index i = 0; i < out.size(); ++i)
                        dloss(i) =
                            (out(i) - y[mine.begin + static_cast<std::uint64_t>(i)]) / s.n_samples;
                    layer.backward(dloss);
                    layer.expert_weights() -= 0.5 * layer.expert_weight_gradient();
                    layer.expert_output_weights() -= 0.5 * layer.expert_output_weight_gradient();
                    auto params = layer.router().parameters();
                    for (std::size_t p = 0; p < params.size(); ++p)
                        params[p] -= 0.5 * layer.router_gradient()[p];
                    if (step == 4) {
                        result = gather_all(sub, out.data(), static_cast<std::size_t>(out.size()));
                        const auto d_x =
                            gather_all(sub, layer.input_gradient().data(),
                                       static_cast<std::size_t>(layer.input_gradient().size()));
                        result.insert(result.end(), d_x.begin(), d_x.end());
                    }
                }
                const auto w = gather_all(sub, layer.expert_weights().data(),
                                          static_cast<std::size_t>(layer.expert_weights().size()));
                const auto a =
                    gather_all(sub, layer.expert_output_weights().data(),
                               static_cast<std::size_t>(layer.expert_output_weights().size()));
                result.insert(result.end(), w.begin(), w.end());
                result.insert(result.end(), a.begin(), a.end());
                const auto router = layer.router().parameters();
                result.insert(result.end(), router.begin(), router.end());
            }
            if (size == 1) {
                reference = result;
                boost::mpi::broadcast(world, reference, 0);
                CHECK(reference.size() ==
                      static_cast<std::size_t>(s.n_samples * (1 + s.d) +
                                               s.n_experts * s.hidden * (s.d + 1) +
                                               s.n_experts * s.d));
            }
            if (member) {
                CAPTURE(size);
                CHECK(result.size() == reference.size());
                CHECK(std::memcmp(result.data(), reference.data(),
                                  result.size() * sizeof(double)) == 0);
            }
        }
    }
}
