// The paper's network and full-batch dynamics under MPI: drift against finite differences of
// the finite-N objective (both losses), bitwise trajectories on every communicator size
// (including ranks with no particle), the Ornstein-Uhlenbeck limit that pins the l2
// convention, and a merge of M systems against one network of M N particles.
#include "testing.hpp"

#include "moesim/core/philox.hpp"
#include "moesim/model/concentric_circles.hpp"
#include "moesim/model/ensemble.hpp"
#include "moesim/model/full_batch_langevin.hpp"
#include "moesim/model/multi_index_regression.hpp"
#include "moesim/model/scaled_tanh_neuron.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/vector.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace moesim;
using model::RowMatrix;

namespace {

std::vector<double> all_particles(const boost::mpi::communicator& comm,
                                  const model::ScaledTanhNetwork& net) {
    const auto& local = net.particles();
    return testing::gather_all(comm, local.data(), static_cast<std::size_t>(local.size()));
}

// f(z_b) = (1/N) sum_i h(z_b; theta_i), written with the one-neuron reference.
Eigen::VectorXd reference_predict(const std::vector<double>& theta, std::size_t n_particles,
                                  const RowMatrix& inputs, double scale) {
    const model::ScaledTanhNeuron neuron{.scale = scale};
    const auto d = static_cast<std::size_t>(inputs.cols());
    Eigen::VectorXd f(inputs.rows());
    for (Eigen::Index b = 0; b < inputs.rows(); ++b) {
        double sum = 0;
        for (std::size_t i = 0; i < n_particles; ++i)
            sum += neuron.value(std::span<const double>(theta.data() + i * (d + 2), d + 2),
                                std::span<const double>(inputs.row(b).data(), d));
        f(b) = sum / static_cast<double>(n_particles);
    }
    return f;
}

// The finite-N objective: mean loss + l2 (1/N) sum_i |theta_i|^2.
double objective(const std::vector<double>& theta, std::size_t n_particles,
                 const model::LabelledData& data, const model::FullBatchLangevinParams& params) {
    const Eigen::VectorXd f = reference_predict(theta, n_particles, data.inputs, params.scale);
    double reg = 0;
    for (double t : theta)
        reg += t * t;
    return model::mean_loss(params.loss, f, data.labels) +
           params.l2 * reg / static_cast<double>(n_particles);
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

} // namespace

TEST_SUITE("model::FullBatchLangevin") {
    TEST_CASE("the drift is N times the finite-difference gradient of the objective") {
        const auto& comm = testing::world();
        const auto circles = model::concentric_circles(3, {.samples = 9});
        const auto regression =
            model::multi_index_regression(3, {.samples = 11, .dim = 3, .indices = 2});
        struct Setting {
            const model::LabelledData* data;
            model::PredictionLoss loss;
        };
        for (const Setting& setting : {Setting{&circles, model::PredictionLoss::logistic},
                                       Setting{&regression, model::PredictionLoss::squared},
                                       Setting{&regression, model::PredictionLoss::half_squared}}) {
            // N = 5 in blocks of 2: at 4 ranks one rank owns no particle.
            const std::size_t n = 5;
            const model::FullBatchLangevinParams params{.learning_rate = 0.1,
                                                        .l2 = 0.3,
                                                        .entropy = 0.0,
                                                        .scale = 2.5,
                                                        .loss = setting.loss};
            model::FullBatchLangevin dyn(comm, par::BlockPartition(n, 2, comm.size()),
                                         *setting.data, params, 21);
            dyn.initialize(0.8);
            const RowMatrix drift = dyn.drift();
            const std::vector<double> theta = all_particles(comm, dyn.network());
            const std::size_t width = static_cast<std::size_t>(dyn.network().particle_dim());

            const Eigen::VectorXd f = dyn.predict(*setting.data);
            const Eigen::VectorXd f_ref = reference_predict(theta, n, setting.data->inputs, 2.5);
            bool ok = (f - f_ref).cwiseAbs().maxCoeff() < 1e-13;
            CHECK(ok);
            const double h = 1e-6;
            for (Eigen::Index i = 0; i < drift.rows(); ++i)
                for (std::size_t c = 0; c < width; ++c) {
                    const std::size_t at = (dyn.network().local_ids().begin + i) * width + c;
                    auto plus = theta, minus = theta;
                    plus[at] += h;
                    minus[at] -= h;
                    const double fd = (objective(plus, n, *setting.data, params) -
                                       objective(minus, n, *setting.data, params)) /
                                      (2 * h);
                    const double analytic =
                        drift(i, static_cast<Eigen::Index>(c)) / static_cast<double>(n);
                    CAPTURE(model::to_string(setting.loss));
                    CAPTURE(at);
                    CHECK(analytic == doctest::Approx(fd).epsilon(1e-7).scale(1.0));
                    ok = ok && std::abs(analytic - fd) < 1e-7 * (1 + std::abs(fd));
                }
            CHECK(testing::all_ranks(comm, ok));
        }
    }

    TEST_CASE("trajectories, predictions and objective terms have the same bits on every size") {
        const auto& world = testing::world();
        const auto data =
            model::split_train_test(model::concentric_circles(5, {.samples = 40}), 0.8);
        const model::FullBatchLangevinParams params{
            .learning_rate = 0.1, .l2 = 0.1, .entropy = 0.01, .scale = 10.0};
        // 37 particles in blocks of 4 (10 blocks); 6 in blocks of 4 (ranks 2, 3 own nothing).
        for (std::uint64_t n : {37u, 6u}) {
            std::vector<double> reference;
            for (int size = 1; size <= world.size(); ++size) {
                const bool member = world.rank() < size;
                const auto sub = world.split(member ? 0 : 1);
                std::vector<double> result;
                if (member) {
                    model::FullBatchLangevin dyn(sub, par::BlockPartition(n, 4, size), data.train,
                                                 params, model::system_seed(9, 2));
                    dyn.initialize(1.0);
                    for (std::uint64_t step = 0; step < 12; ++step)
                        result.push_back(dyn.step(step));
                    const auto theta = all_particles(sub, dyn.network());
                    result.insert(result.end(), theta.begin(), theta.end());
                    const Eigen::VectorXd f = dyn.predict(data.test);
                    result.insert(result.end(), f.data(), f.data() + f.size());
                    const auto terms = dyn.objective_terms(data.test);
                    result.push_back(terms.loss);
                    result.push_back(terms.second_moment);
                    result.push_back(terms.entropy);
                    result.push_back(terms.free_energy(params));
                }
                if (size == 1) {
                    reference = result;
                    boost::mpi::broadcast(world, reference, 0);
                    CHECK(reference.size() == 12 + n * 4 + 8 + 4);
                    CHECK(std::isfinite(reference.back()));
                }
                if (member) {
                    CAPTURE(n);
                    CAPTURE(size);
                    CHECK(same_bits(result, reference));
                }
            }
        }
    }

    TEST_CASE("train_loss() before a step is loss(train) and leaves the trajectory's bits") {
        const auto& comm = testing::world();
        const auto data =
            model::split_train_test(model::concentric_circles(7, {.samples = 40}), 0.8);
        const model::FullBatchLangevinParams params{
            .learning_rate = 0.1, .l2 = 0.1, .entropy = 0.01, .scale = 10.0};
        auto make = [&] {
            model::FullBatchLangevin dyn(comm, par::BlockPartition(21, 4, comm.size()), data.train,
                                         params, model::system_seed(3, 1));
            dyn.initialize(1.0);
            return dyn;
        };
        model::FullBatchLangevin plain = make(), framed = make();
        std::vector<double> plain_losses, framed_losses;
        for (std::uint64_t step = 0; step < 9; ++step) {
            if (step % 3 == 0) { // a frame before this step
                const double expected = framed.loss(data.train);
                const double frame_loss = framed.train_loss();
                CHECK(same_bits(std::vector<double>{frame_loss}, std::vector<double>{expected}));
            }
            plain_losses.push_back(plain.step(step));
            framed_losses.push_back(framed.step(step));
        }
        CHECK(same_bits(framed_losses, plain_losses));
        CHECK(same_bits(all_particles(comm, framed.network()),
                        all_particles(comm, plain.network())));
    }

    TEST_CASE("without data (R = 0) the particles reach the variance lambda / (2 lambda')") {
        const auto& comm = testing::world();
        const auto data = model::concentric_circles(1, {.samples = 4});
        const double lambda = 0.05, lambda_prime = 0.5, eta = 0.02;
        const std::uint64_t n = 2048;
        model::FullBatchLangevin dyn(
            comm, par::BlockPartition(n, 64, comm.size()), data,
            {.learning_rate = eta, .l2 = lambda_prime, .entropy = lambda, .scale = 0.0}, 3);
        dyn.initialize(0.0);
        // Contraction 1 - 2 eta lambda' = 0.98 per step: 1500 steps leave e^-30 of the start.
        for (std::uint64_t step = 0; step < 1500; ++step)
            dyn.step(step);
        const auto theta = all_particles(comm, dyn.network());
        double second = 0;
        for (double t : theta)
            second += t * t;
        second /= static_cast<double>(theta.size());
        // Euler-Maruyama's exact stationary variance: (lambda / (2 lambda')) / (1 - eta lambda');
        // plus four standard errors sqrt(2 / samples) of the estimate.
        const double target = lambda / (2 * lambda_prime) / (1 - eta * lambda_prime);
        CHECK(second == doctest::Approx(target).epsilon(4 * std::sqrt(2.0 / double(theta.size()))));
        // second_moment() is per particle: the sum over its d + 2 = 4 coordinates.
        CHECK(dyn.second_moment() == doctest::Approx(4 * second).epsilon(1e-12));
    }

    TEST_CASE("merging M systems predicts as one network of M N particles with weights 1/(MN)") {
        const auto& comm = testing::world();
        const auto data =
            model::split_train_test(model::concentric_circles(2, {.samples = 50}), 0.8);
        const model::FullBatchLangevinParams params{.learning_rate = 0.1, .scale = 10.0};
        const std::uint64_t n = 7, m = 3;
        RowMatrix predictions(m, data.test.size());
        std::vector<double> cloud;
        for (std::uint64_t s = 0; s < m; ++s) {
            model::FullBatchLangevin dyn(comm, par::BlockPartition(n, 2, comm.size()), data.train,
                                         params, model::system_seed(4, s));
            dyn.initialize(1.0);
            for (std::uint64_t step = 0; step < 5; ++step)
                dyn.step(step);
            predictions.row(static_cast<Eigen::Index>(s)) = dyn.predict(data.test).transpose();
            const auto theta = all_particles(comm, dyn.network());
            cloud.insert(cloud.end(), theta.begin(), theta.end());
        }
        const std::vector<std::size_t> members = {0, 1, 2};
        const Eigen::VectorXd merged = model::merge_predictions(predictions, members);

        model::ScaledTanhNetwork joint(comm, par::BlockPartition(n * m, 2, comm.size()), 2, 10.0);
        const auto first = joint.local_ids().begin;
        for (Eigen::Index i = 0; i < joint.particles().rows(); ++i)
            for (Eigen::Index c = 0; c < 4; ++c)
                joint.particles()(i, c) = cloud[(first + std::size_t(i)) * 4 + std::size_t(c)];
        const Eigen::VectorXd f = joint.predict(data.test.inputs);
        CHECK(testing::all_ranks(comm, (f - merged).cwiseAbs().maxCoeff() < 1e-13));
        CHECK(model::sup_distance(f, merged) < 1e-13);
    }
}
