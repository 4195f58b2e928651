#include "testing.hpp"

#include "moesim/model/two_layer_network.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace moesim;
using model::RowMatrix;

using moesim::testing::gather_all;

namespace {

// Inputs and labels with irregular deterministic values.
void batch(int n, int d, double phase, RowMatrix& x, Eigen::VectorXd& y) {
    x.resize(n, d);
    y.resize(n);
    for (int b = 0; b < n; ++b) {
        for (int i = 0; i < d; ++i)
            x(b, i) = 1.3 * std::sin(1.7 * (b * d + i) + phase);
        y(b) = std::cos(2.1 * b + phase);
    }
}

// L = mean_b (f_b - y_b)^2 / 2 with f = sum_j u_j tanh(<w_j, x>), written out; w is m x d
// row-major, u has m entries (all neurons, gathered).
double objective(const std::vector<double>& w, const std::vector<double>& u, int d,
                 const RowMatrix& x, const Eigen::VectorXd& y) {
    double loss = 0;
    for (Eigen::Index b = 0; b < x.rows(); ++b) {
        double f = 0;
        for (std::size_t j = 0; j < u.size(); ++j) {
            double z = 0;
            for (int i = 0; i < d; ++i)
                z += w[j * static_cast<std::size_t>(d) + static_cast<std::size_t>(i)] * x(b, i);
            f += u[j] * std::tanh(z);
        }
        loss += 0.5 * (f - y(b)) * (f - y(b));
    }
    return loss / static_cast<double>(x.rows());
}

} // namespace

TEST_SUITE("model::TwoLayerNetwork") {
    TEST_CASE("gradients match finite differences of the squared loss") {
        const auto& comm = testing::world();
        // 5 neurons in blocks of 2: at 4 ranks one rank owns none.
        const int m = 5, d = 3, n = 7;
        model::TwoLayerNetwork net(comm, par::BlockPartition(m, 2, comm.size()), d,
                                   model::Activation::tanh);
        net.initialize(4, 0.7, 0.5);
        RowMatrix x;
        Eigen::VectorXd y;
        batch(n, d, 0.2, x, y);
        const Eigen::VectorXd residual = net.predict(x) - y;
        net.backward(x, residual / n);
        const auto w =
            gather_all(comm, net.weights().data(), static_cast<std::size_t>(net.weights().size()));
        const auto u = gather_all(comm, net.output_weights().data(),
                                  static_cast<std::size_t>(net.output_weights().size()));
        CHECK(u.size() == static_cast<std::size_t>(m));
        // The network's own loss agrees with the written-out one.
        CHECK(0.5 * residual.squaredNorm() / n ==
              doctest::Approx(objective(w, u, d, x, y)).epsilon(1e-13));

        const double h = 1e-6;
        bool ok = true;
        for (Eigen::Index r = 0; r < net.weights().rows(); ++r) {
            const std::size_t j = net.local_ids().begin + static_cast<std::size_t>(r);
            for (int i = -1; i < d; ++i) {
                auto wp = w, wm = w, up = u, um = u;
                if (i < 0) {
                    up[j] += h;
                    um[j] -= h;
                } else {
                    wp[j * d + static_cast<std::size_t>(i)] += h;
                    wm[j * d + static_cast<std::size_t>(i)] -= h;
                }
                const double fd =
                    (objective(wp, up, d, x, y) - objective(wm, um, d, x, y)) / (2 * h);
                const double analytic =
                    i < 0 ? net.output_weight_gradient()(r) : net.weight_gradient()(r, i);
                CAPTURE(j);
                CAPTURE(i);
                CHECK(analytic == doctest::Approx(fd).epsilon(1e-7).scale(1.0));
                ok = ok && std::abs(analytic - fd) < 1e-7 * (1 + std::abs(fd));
            }
        }
        CHECK(testing::all_ranks(comm, ok));
    }

    TEST_CASE("SGD steps have the same bits on every communicator size") {
        const auto& world = testing::world();
        const int m = 11, d = 4, n = 9;
        std::vector<double> reference;
        for (int size = 1; size <= world.size(); ++size) {
            const bool member = world.rank() < size;
            const auto sub = world.split(member ? 0 : 1);
            std::vector<double> result;
            if (member) {
                model::TwoLayerNetwork net(sub, par::BlockPartition(m, 3, size), d,
                                           model::Activation::tanh);
                net.initialize(8, 0.5, 0.3);
                RowMatrix x;
                Eigen::VectorXd y;
                for (int step = 0; step < 6; ++step) {
                    batch(n, d, step, x, y);
                    const Eigen::VectorXd f = net.predict(x);
                    net.backward(x, (f - y) / n);
                    net.weights() -= 0.3 * net.weight_gradient();
                    net.output_weights() -= 0.3 * net.output_weight_gradient();
                }
                result = gather_all(sub, net.weights().data(),
                                    static_cast<std::size_t>(net.weights().size()));
                const auto u = gather_all(sub, net.output_weights().data(),
                                          static_cast<std::size_t>(net.output_weights().size()));
                result.insert(result.end(), u.begin(), u.end());
            }
            if (size == 1) {
                reference = result;
                boost::mpi::broadcast(world, reference, 0);
                CHECK(reference.size() == static_cast<std::size_t>(m * (d + 1)));
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
