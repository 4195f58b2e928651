// The routers of the routing experiment (issue 14): gate gradients of the softmax (Switch and
// renormalised) and sigmoid top-k routers against central differences; the Switch aux loss
// and the z-loss against plain-loop values and central differences; the loss-free bias
// changes the selection but not the gate values; the bias update's signs; the k-means
// router's centroids equal the running means of the states it routed; capacity selection.

#include "moesim/model/expert_capacity.hpp"
#include "moesim/model/kmeans_router.hpp"
#include "moesim/model/loss_free_bias.hpp"
#include "moesim/model/router_losses.hpp"
#include "moesim/model/sigmoid_topk_router.hpp"
#include "moesim/model/softmax_topk_router.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

using namespace moesim;
using model::RowMatrix;

namespace {

RowMatrix irregular(Eigen::Index rows, Eigen::Index cols, double scale, double phase) {
    RowMatrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = scale * std::sin(1.3 * static_cast<double>(i) + phase) +
                      0.2 * scale * std::cos(0.7 * static_cast<double>(i * i) + phase);
    return m;
}

// sum_{b,s} dgate(b,s) gate(b,s) for the router's current parameters.
double gate_objective(const model::Router& router, const RowMatrix& x, const RowMatrix& dgate) {
    const model::Routing r = router.route(x);
    return (r.gate.array() * dgate.array()).sum();
}

// The router's parameter and input gradients against central differences, with the
// selection held (h small enough that no top-k choice flips on these inputs).
void check_router_gradients(model::Router& router, const RowMatrix& x) {
    const model::Routing routing = router.route(x);
    const RowMatrix dgate = irregular(x.rows(), router.top_k(), 0.8, 0.4);
    const std::vector<double> grad = router.gradient(x, routing, dgate);
    const RowMatrix input_grad = router.input_gradient(x, routing, dgate);
    const double h = 1e-6;
    auto params = router.parameters();
    REQUIRE(grad.size() == params.size());
    for (std::size_t p = 0; p < params.size(); ++p) {
        const double saved = params[p];
        params[p] = saved + h;
        const double up = gate_objective(router, x, dgate);
        params[p] = saved - h;
        const double down = gate_objective(router, x, dgate);
        params[p] = saved;
        CAPTURE(p);
        CHECK(grad[p] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-6).scale(1.0));
    }
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        RowMatrix xp = x, xm = x;
        xp.data()[i] += h;
        xm.data()[i] -= h;
        CAPTURE(i);
        CHECK(input_grad.data()[i] ==
              doctest::Approx((gate_objective(router, xp, dgate) -
                               gate_objective(router, xm, dgate)) /
                              (2 * h))
                  .epsilon(1e-6)
                  .scale(1.0));
    }
    // The same selection as at the centre (else the differences crossed a switch).
    for (std::size_t p = 0; p < params.size(); ++p) {
        const double saved = params[p];
        params[p] = saved + h;
        CHECK(router.route(x).expert == routing.expert);
        params[p] = saved;
    }
    // backward_into: both gradients at once, or (zero input rows) the parameters' alone, with
    // the same bits as the separate calls.
    std::vector<double> both(params.size()), alone(params.size());
    RowMatrix inputs_grad(x.rows(), x.cols()), none(0, x.cols());
    router.backward_into(x, routing, dgate, both, inputs_grad);
    router.backward_into(x, routing, dgate, alone, none);
    CHECK(both == grad);
    CHECK(alone == grad);
    CHECK(inputs_grad == input_grad);
}

std::vector<double> softmax(const Eigen::RowVectorXd& logits) {
    std::vector<double> p(static_cast<std::size_t>(logits.size()));
    const double top = logits.maxCoeff();
    double sum = 0;
    for (Eigen::Index e = 0; e < logits.size(); ++e)
        sum += (p[static_cast<std::size_t>(e)] = std::exp(logits(e) - top));
    for (double& v : p)
        v /= sum;
    return p;
}

// The aux loss from its definition, by plain loops.
double aux_by_definition(const RowMatrix& w, const RowMatrix& x, Eigen::Index k,
                         model::ScoreFunction score, double alpha) {
    const Eigen::Index n_exp = w.rows(), n = x.rows();
    std::vector<double> f(static_cast<std::size_t>(n_exp), 0.0), p(f);
    for (Eigen::Index b = 0; b < n; ++b) {
        const Eigen::RowVectorXd logits = x.row(b) * w.transpose();
        std::vector<double> q;
        if (score == model::ScoreFunction::softmax) {
            q = softmax(logits);
        } else {
            double sum = 0;
            for (Eigen::Index e = 0; e < n_exp; ++e)
                sum += 1 / (1 + std::exp(-logits(e)));
            for (Eigen::Index e = 0; e < n_exp; ++e)
                q.push_back(1 / (1 + std::exp(-logits(e))) / sum);
        }
        std::vector<std::size_t> order(q.size());
        for (std::size_t e = 0; e < order.size(); ++e)
            order[e] = e;
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t u, std::size_t v) { return q[u] > q[v]; });
        for (Eigen::Index s = 0; s < k; ++s)
            f[order[static_cast<std::size_t>(s)]] += 1.0 / static_cast<double>(n * k);
        for (std::size_t e = 0; e < q.size(); ++e)
            p[e] += q[e] / static_cast<double>(n);
    }
    double sum = 0;
    for (std::size_t e = 0; e < f.size(); ++e)
        sum += f[e] * p[e];
    return alpha * static_cast<double>(n_exp) * sum;
}

double z_by_definition(const RowMatrix& w, const RowMatrix& x, double beta) {
    double sum = 0;
    for (Eigen::Index b = 0; b < x.rows(); ++b) {
        const Eigen::RowVectorXd logits = x.row(b) * w.transpose();
        double s = 0;
        for (Eigen::Index e = 0; e < logits.size(); ++e)
            s += std::exp(logits(e));
        sum += std::log(s) * std::log(s);
    }
    return beta * sum / static_cast<double>(x.rows());
}

// A loss's gradient against central differences of its definition, with f held fixed
// (the top-k of the centre; h keeps it).
void check_loss_gradient(const std::function<model::RouterLoss(const RowMatrix&)>& loss,
                         const std::function<double(const RowMatrix&)>& definition, RowMatrix w) {
    const model::RouterLoss at = loss(w);
    CHECK(at.value == doctest::Approx(definition(w)).epsilon(1e-12));
    const double h = 1e-6;
    for (Eigen::Index i = 0; i < w.size(); ++i) {
        RowMatrix up = w, down = w;
        up.data()[i] += h;
        down.data()[i] -= h;
        CAPTURE(i);
        CHECK(at.gradient[static_cast<std::size_t>(i)] ==
              doctest::Approx((definition(up) - definition(down)) / (2 * h))
                  .epsilon(1e-6)
                  .scale(1.0));
    }
}

} // namespace

TEST_SUITE("model routers") {
    TEST_CASE("softmax top-k gate gradients match central differences") {
        const RowMatrix x = irregular(7, 3, 1.1, 0.2);
        for (bool renormalize : {false, true})
            for (Eigen::Index k : {1, 2, 4}) {
                if (renormalize && k == 1)
                    continue; // the gate is the constant 1
                model::SoftmaxTopKRouter router(3, 4, k, {.renormalize = renormalize});
                router.weights() = irregular(4, 3, 0.9, 1.3);
                CAPTURE(renormalize);
                CAPTURE(k);
                check_router_gradients(router, x);
            }
    }

    TEST_CASE("renormalised softmax gates are the softmax over the kept logits") {
        const RowMatrix x = irregular(5, 3, 1.1, 0.2);
        model::SoftmaxTopKRouter router(3, 4, 2, {.renormalize = true});
        router.weights() = irregular(4, 3, 0.9, 1.3);
        const model::Routing r = router.route(x);
        for (Eigen::Index b = 0; b < x.rows(); ++b) {
            const Eigen::RowVectorXd logits = x.row(b) * router.weights().transpose();
            const double l0 = logits(r.expert[static_cast<std::size_t>(2 * b)]);
            const double l1 = logits(r.expert[static_cast<std::size_t>(2 * b + 1)]);
            CHECK(r.gate(b, 0) == doctest::Approx(1 / (1 + std::exp(l1 - l0))).epsilon(1e-14));
            CHECK(r.gate(b, 0) + r.gate(b, 1) == doctest::Approx(1.0).epsilon(1e-15));
        }
    }

    TEST_CASE("sigmoid top-k gate gradients match central differences") {
        const RowMatrix x = irregular(7, 3, 1.1, 0.2);
        for (Eigen::Index k : {2, 3})
            for (double scale : {1.0, 2.5}) {
                model::SigmoidTopKRouter router(3, 5, k, false, scale);
                router.weights() = irregular(5, 3, 0.9, 1.3);
                CAPTURE(k);
                CAPTURE(scale);
                check_router_gradients(router, x);
            }
        // With a bias that moves the selection, the gradients still hold.
        model::SigmoidTopKRouter biased(3, 5, 2, true);
        biased.weights() = irregular(5, 3, 0.9, 1.3);
        biased.selection_bias()[4] = 0.3;
        check_router_gradients(biased, x);
    }

    TEST_CASE("the loss-free bias changes the selection, never the gate values") {
        const RowMatrix x = irregular(9, 3, 1.1, 0.2);
        const RowMatrix w = irregular(4, 3, 0.9, 1.3);
        SUBCASE("softmax, Switch and renormalised gates") {
            for (bool renormalize : {false, true}) {
                model::SoftmaxTopKRouter plain(3, 4, 2, {.renormalize = renormalize});
                model::SoftmaxTopKRouter biased(3, 4, 2,
                                                {.renormalize = renormalize, .expert_bias = true});
                plain.weights() = w;
                biased.weights() = w;
                CHECK(plain.route(x).expert == biased.route(x).expert); // zero bias
                biased.selection_bias()[3] = 0.5;                       // favour expert 3
                const model::Routing r = biased.route(x);
                CHECK(r.expert != plain.route(x).expert);
                for (Eigen::Index b = 0; b < x.rows(); ++b) {
                    const auto p = softmax(x.row(b) * w.transpose());
                    const auto e0 = static_cast<std::size_t>(r.expert[2 * b]);
                    const auto e1 = static_cast<std::size_t>(r.expert[2 * b + 1]);
                    CHECK((e0 == 3 || e1 == 3)); // the bias dominates the probability gaps
                    const double norm = renormalize ? p[e0] + p[e1] : 1.0;
                    CHECK(r.gate(b, 0) == doctest::Approx(p[e0] / norm).epsilon(1e-14));
                    CHECK(r.gate(b, 1) == doctest::Approx(p[e1] / norm).epsilon(1e-14));
                }
            }
        }
        SUBCASE("sigmoid") {
            model::SigmoidTopKRouter biased(3, 4, 2, true);
            biased.weights() = w;
            biased.selection_bias()[0] = 2.0;
            const model::Routing r = biased.route(x);
            for (Eigen::Index b = 0; b < x.rows(); ++b) {
                const Eigen::RowVectorXd l = x.row(b) * w.transpose();
                const auto e0 = r.expert[static_cast<std::size_t>(2 * b)];
                const auto e1 = r.expert[static_cast<std::size_t>(2 * b + 1)];
                CHECK((e0 == 0 || e1 == 0));
                const double s0 = 1 / (1 + std::exp(-l(e0))), s1 = 1 / (1 + std::exp(-l(e1)));
                CHECK(r.gate(b, 0) == doctest::Approx(s0 / (s0 + s1)).epsilon(1e-14));
                CHECK(r.gate(b, 1) == doctest::Approx(s1 / (s0 + s1)).epsilon(1e-14));
            }
        }
    }

    TEST_CASE("the bias update moves each expert by rate towards the mean load") {
        std::vector<double> bias{0.0, 0.1, -0.2, 0.5};
        model::update_expert_bias(bias, {1, 5, 3, 3}, 1e-3); // mean 3
        CHECK(bias[0] == doctest::Approx(1e-3).epsilon(1e-14));
        CHECK(bias[1] == doctest::Approx(0.1 - 1e-3).epsilon(1e-14));
        CHECK(bias[2] == -0.2);
        CHECK(bias[3] == 0.5);
    }

    TEST_CASE("the Switch aux loss and the z-loss match their definitions and differences") {
        const RowMatrix x = irregular(11, 3, 1.1, 0.2);
        const RowMatrix w = irregular(4, 3, 0.9, 1.3);
        for (auto score : {model::ScoreFunction::softmax, model::ScoreFunction::sigmoid})
            for (Eigen::Index k : {1, 2})
                for (Eigen::Index block : {3, 11}) {
                    CAPTURE(static_cast<int>(score));
                    CAPTURE(k);
                    check_loss_gradient(
                        [&](const RowMatrix& m) {
                            return model::switch_aux_loss(
                                {m.data(), static_cast<std::size_t>(m.size())}, x, 4, k, score,
                                0.05, block);
                        },
                        [&](const RowMatrix& m) { return aux_by_definition(m, x, k, score, 0.05); },
                        w);
                }
        check_loss_gradient(
            [&](const RowMatrix& m) {
                return model::router_z_loss({m.data(), static_cast<std::size_t>(m.size())}, x, 4,
                                            1e-3, 4);
            },
            [&](const RowMatrix& m) { return z_by_definition(m, x, 1e-3); }, w);
        // A balanced softmax router (zero weights) has aux loss alpha: E * sum_e f_e / E.
        const RowMatrix zero = RowMatrix::Zero(4, 3);
        CHECK(model::switch_aux_loss({zero.data(), 12}, x, 4, 1, model::ScoreFunction::softmax,
                                     0.05, 4)
                  .value == doctest::Approx(0.05).epsilon(1e-14));
    }

    TEST_CASE("k-means centroids are the running means of the states routed to them") {
        const Eigen::Index d = 3, n_exp = 3;
        RowMatrix init = irregular(n_exp, d, 0.5, 0.7);
        for (Eigen::Index k : {1, 2}) {
            model::KMeansRouter router(d, n_exp, k, model::KMeansRule::cumulative, 1.0);
            router.centroids() = init;
            RowMatrix sums = RowMatrix::Zero(n_exp, d);
            std::vector<double> counts(n_exp, 0.0);
            for (int step = 0; step < 5; ++step) {
                const RowMatrix batch = irregular(8, d, 1.0, 0.3 * step);
                // The routing the update uses: the layer's, block by block (blocks of 3).
                for (Eigen::Index first = 0; first < 8; first += 3) {
                    const Eigen::Index rows = std::min<Eigen::Index>(3, 8 - first);
                    const model::Routing r = router.route(batch.middleRows(first, rows));
                    for (Eigen::Index b = 0; b < rows; ++b)
                        for (Eigen::Index s = 0; s < k; ++s) {
                            const auto e = r.expert[static_cast<std::size_t>(b * k + s)];
                            sums.row(e) += batch.row(first + b);
                            counts[static_cast<std::size_t>(e)] += 1;
                            CHECK(r.gate(b, s) == 1.0 / static_cast<double>(k));
                        }
                }
                router.update(batch, 3);
                for (Eigen::Index e = 0; e < n_exp; ++e) {
                    CHECK(router.counts()[static_cast<std::size_t>(e)] ==
                          counts[static_cast<std::size_t>(e)]);
                    for (Eigen::Index i = 0; i < d; ++i) {
                        const double want = counts[static_cast<std::size_t>(e)] > 0
                                                ? sums(e, i) / counts[static_cast<std::size_t>(e)]
                                                : init(e, i);
                        CHECK(router.centroids()(e, i) == doctest::Approx(want).epsilon(1e-12));
                    }
                }
            }
        }
    }

    TEST_CASE("k-means routes to the highest cosine and its ema rule is m += rate (mean - m)") {
        model::KMeansRouter router(2, 3, 1, model::KMeansRule::ema, 0.25);
        router.centroids() << 10.0, 0.0, 0.0, 0.1, -1.0, -1.0;
        RowMatrix x(3, 2);
        x << 1.0, 0.2, 0.1, 5.0, -0.5, -0.6;
        const model::Routing r = router.route(x);
        CHECK(r.expert == std::vector<std::int32_t>{0, 1, 2}); // by angle, not by distance
        const RowMatrix before = router.centroids();
        router.update(x, 2);
        for (Eigen::Index e = 0; e < 3; ++e)
            for (Eigen::Index i = 0; i < 2; ++i)
                CHECK(router.centroids()(e, i) ==
                      doctest::Approx(before(e, i) + 0.25 * (x(e, i) - before(e, i))));
    }

    TEST_CASE("capacity C = ceil(c k T / E); probs keeps the C largest, position the first C") {
        CHECK(model::ExpertCapacity{1.25, model::DropPolicy::probs}.slots(100, 2, 8) == 32);
        CHECK(model::ExpertCapacity{1.0, model::DropPolicy::probs}.slots(10, 1, 3) == 4);
        CHECK(model::ExpertCapacity{}.slots(10, 2, 3) == 20);
        const std::vector<double> gates{0.3, 0.9, 0.1, 0.9, 0.5};
        CHECK(model::kept_within_capacity(gates, 3, model::DropPolicy::probs) ==
              std::vector<bool>{false, true, false, true, true});
        CHECK(model::kept_within_capacity(gates, 1, model::DropPolicy::probs) ==
              std::vector<bool>{false, true, false, false, false}); // tie: lower sample
        CHECK(model::kept_within_capacity(gates, 2, model::DropPolicy::position) ==
              std::vector<bool>{true, true, false, false, false});
        CHECK(model::kept_within_capacity(gates, 5, model::DropPolicy::probs) ==
              std::vector<bool>(5, true));
        CHECK(model::kept_within_capacity(gates, 0, model::DropPolicy::position) ==
              std::vector<bool>(5, false));
    }
}
