#include "testing.hpp"

#include "moesim/model/mean_field_langevin.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace moesim;
using model::RowMatrix;

namespace {

// All particles, in global id order, gathered to every rank.
std::vector<double> all_particles(const boost::mpi::communicator& comm,
                                  const model::MeanFieldNetwork& net) {
    const auto& local = net.particles();
    return testing::gather_all(comm, local.data(), static_cast<std::size_t>(local.size()));
}

// The finite-N objective written out independently of the model code:
// L = mean_b (f(x_b) - y_b)^2 / 2 + (l2/2) (1/N) sum_i |theta_i|^2, f = (1/N) sum_i tanh(.)
double objective(const std::vector<double>& theta, std::size_t n, std::size_t d, const RowMatrix& x,
                 const Eigen::VectorXd& y, double l2) {
    double data = 0, reg = 0;
    for (Eigen::Index b = 0; b < x.rows(); ++b) {
        double f = 0;
        for (std::size_t i = 0; i < n; ++i) {
            double z = 0;
            for (std::size_t k = 0; k < d; ++k)
                z += theta[i * d + k] * x(b, static_cast<Eigen::Index>(k));
            f += std::tanh(z);
        }
        f /= static_cast<double>(n);
        data += 0.5 * (f - y(b)) * (f - y(b));
    }
    for (double t : theta)
        reg += t * t;
    return data / static_cast<double>(x.rows()) + 0.5 * l2 * reg / static_cast<double>(n);
}

} // namespace

TEST_SUITE("model::MeanFieldLangevin") {
    TEST_CASE("the particle gradient is N times the finite-difference gradient of the objective") {
        const auto& comm = testing::world();
        // N=5 in blocks of 2: at 4 ranks one rank owns no particle.
        const std::size_t n = 5, d = 3;
        const double l2 = 0.3;
        const model::MeanFieldTeacher teacher(5, d, 2, 1.5, 0.1, model::Activation::tanh);
        model::MeanFieldLangevin dyn(comm, par::BlockPartition(n, 2, comm.size()), d,
                                     model::Activation::tanh, teacher,
                                     {.learning_rate = 0.1, .entropy = 0, .l2 = l2, .batch = 7}, 5);
        dyn.initialize(0.8);
        RowMatrix x;
        Eigen::VectorXd y;
        teacher.sample("train", 0, 7, x, y);
        auto& net = dyn.network();
        const Eigen::VectorXd residual = net.predict(x) - y;
        const RowMatrix gradient =
            net.data_gradient(x, residual) + l2 * net.particles(); // first variation's gradient

        const std::vector<double> theta = all_particles(comm, net);
        const double h = 1e-5;
        bool ok = true;
        for (Eigen::Index i = 0; i < net.particles().rows(); ++i)
            for (std::size_t k = 0; k < d; ++k) {
                const std::size_t at = (net.local_ids().begin + i) * d + k;
                auto plus = theta, minus = theta;
                plus[at] += h;
                minus[at] -= h;
                const double fd =
                    (objective(plus, n, d, x, y, l2) - objective(minus, n, d, x, y, l2)) / (2 * h);
                const double analytic =
                    gradient(i, static_cast<Eigen::Index>(k)) / static_cast<double>(n);
                CAPTURE(at);
                CHECK(analytic == doctest::Approx(fd).epsilon(1e-7).scale(1.0));
                ok = ok && std::abs(analytic - fd) < 1e-7 * (1 + std::abs(fd));
            }
        CHECK(testing::all_ranks(comm, ok));
    }

    TEST_CASE("trajectories have the same bits on every communicator size") {
        const auto& world = testing::world();
        const std::size_t n = 37, d = 5;
        const model::MeanFieldTeacher teacher(9, d, 3, 2.0, 0.05, model::Activation::tanh);
        std::vector<double> reference;
        // Run on sub-communicators of 1, 2, ... nranks ranks; block 4 gives 10 blocks.
        for (int size = 1; size <= world.size(); ++size) {
            const bool member = world.rank() < size;
            const auto sub = world.split(member ? 0 : 1);
            std::vector<double> result;
            if (member) {
                model::MeanFieldLangevin dyn(
                    sub, par::BlockPartition(n, 4, size), d, model::Activation::tanh, teacher,
                    {.learning_rate = 0.3, .entropy = 1e-3, .l2 = 1e-2, .batch = 16}, 9);
                dyn.initialize(0.5);
                for (std::uint64_t step = 0; step < 25; ++step)
                    dyn.step(step);
                result = all_particles(sub, dyn.network());
                result.push_back(dyn.second_moment());
            }
            if (size == 1) {
                reference = result;
                boost::mpi::broadcast(world, reference, 0);
                CHECK(reference.size() == n * d + 1);
            }
            if (member) {
                CAPTURE(size);
                CHECK(result.size() == reference.size());
                CHECK(std::memcmp(result.data(), reference.data(),
                                  result.size() * sizeof(double)) == 0);
            }
        }
    }

    TEST_CASE("without data the particles reach the Ornstein-Uhlenbeck variance lambda/lambda'") {
        const auto& comm = testing::world();
        const std::size_t n = 4096, d = 8;
        const double lambda = 0.05, lambda_prime = 1.0, eta = 0.002;
        const model::MeanFieldTeacher teacher(1, d, 1, 1.0, 0.0, model::Activation::tanh);
        model::MeanFieldLangevin dyn(comm, par::BlockPartition(n, 64, comm.size()), d,
                                     model::Activation::tanh, teacher,
                                     {.learning_rate = eta,
                                      .entropy = lambda,
                                      .l2 = lambda_prime,
                                      .batch = 1,
                                      .data_term = false},
                                     3);
        dyn.initialize(0.0);
        // Relaxation time 1/(eta lambda') = 500 steps; 6000 steps leave e^-24 of the start.
        for (std::uint64_t step = 0; step < 6000; ++step)
            dyn.step(step);
        const auto theta = all_particles(comm, dyn.network());
        double mean = 0, var = 0;
        for (double t : theta)
            mean += t;
        mean /= static_cast<double>(theta.size());
        for (double t : theta)
            var += (t - mean) * (t - mean);
        var /= static_cast<double>(theta.size() - 1);

        const double samples = static_cast<double>(n * d);
        const double target = lambda / lambda_prime;
        // The Euler-Maruyama chain's exact stationary variance is target / (1 - eta lambda'/2):
        // a bias of 0.1% here, added to five standard errors sqrt(2/samples) of the estimate.
        const double tolerance = target * (5 * std::sqrt(2 / samples) + eta * lambda_prime / 2);
        CHECK(std::abs(var - target) < tolerance);
        CHECK(std::abs(mean) < 5 * std::sqrt(target / samples));
        // And the discrete chain's own variance, tighter: only sampling error remains.
        const double exact = target / (1 - eta * lambda_prime / 2);
        CHECK(std::abs(var - exact) < 5 * exact * std::sqrt(2 / samples));
    }

    TEST_CASE(
        "a step's Langevin noise is standard normal, uncorrelated across particles and steps") {
        const auto& comm = testing::world();
        // N = 4101 in blocks of 64: the last block is short. Without data and weight decay a
        // step from theta = 0 leaves exactly scale * xi (decay 1, gradient 0).
        const std::size_t n = 4101, d = 8;
        const double lambda = 0.02, eta = 0.5, scale = std::sqrt(2 * lambda * eta);
        const model::MeanFieldTeacher teacher(1, d, 1, 1.0, 0.0, model::Activation::tanh);
        model::MeanFieldLangevin dyn(
            comm, par::BlockPartition(n, 64, comm.size()), d, model::Activation::tanh, teacher,
            {.learning_rate = eta, .entropy = lambda, .l2 = 0, .batch = 1, .data_term = false}, 7);
        std::vector<std::vector<double>> xi;
        for (std::uint64_t step : {4u, 5u}) {
            dyn.network().particles().setZero();
            dyn.step(step);
            auto theta = all_particles(comm, dyn.network());
            for (double& v : theta)
                v /= scale;
            xi.push_back(std::move(theta));
        }
        const auto& z = xi[0];
        const double samples = static_cast<double>(z.size());
        double mean = 0, var = 0;
        for (double v : z)
            mean += v;
        mean /= samples;
        for (double v : z)
            var += (v - mean) * (v - mean);
        var /= samples;
        CHECK(std::abs(mean) < 5 / std::sqrt(samples));
        CHECK(std::abs(var - 1) < 5 * std::sqrt(2 / samples));
        // Kolmogorov-Smirnov against Phi at the 0.1% level: sqrt(n) D < 1.95.
        std::vector<double> sorted = z;
        std::sort(sorted.begin(), sorted.end());
        double d_max = 0;
        for (std::size_t i = 0; i < sorted.size(); ++i) {
            const double f = 0.5 * std::erfc(-sorted[i] / std::sqrt(2.0));
            d_max = std::max({d_max, f - static_cast<double>(i) / samples,
                              static_cast<double>(i + 1) / samples - f});
        }
        CHECK(std::sqrt(samples) * d_max < 1.95);
        // Correlations: particle i with i + 1 (same coordinate, same step), step 4 with step 5
        // (same particle and coordinate), five standard errors.
        double across_particles = 0, across_steps = 0;
        for (std::size_t i = 0; i + 1 < n; ++i)
            for (std::size_t k = 0; k < d; ++k)
                across_particles += z[i * d + k] * z[(i + 1) * d + k];
        for (std::size_t j = 0; j < z.size(); ++j)
            across_steps += z[j] * xi[1][j];
        CHECK(std::abs(across_particles / ((n - 1) * d)) < 5 / std::sqrt(double((n - 1) * d)));
        CHECK(std::abs(across_steps / samples) < 5 / std::sqrt(samples));
    }
}
