// bench_poc_step: seconds per model::FullBatchLangevin::step (one full-batch noisy gradient
// step of the paper's N-particle network: forward, gradient, weight decay, Langevin noise) on
// the propagation-of-chaos data sets' shapes, next to this machine's Eigen GEMM rate for the
// step's own block products; the step's phases; and one k-NN entropy estimate of the cloud
// (a frame's extra cost). Peer: bench/peers/poc_step_numpy.py (same step in numpy).
// Usage: bench_poc_step [--sizes 2x500x160,...] (DIMxPARTICLESxSAMPLES) [--block 64]
//        [--min-seconds 2] [--min-steps 10] [--gemm 1] [--output FILE]; any rank count.

#include "bench_common.hpp"

#include "moesim/model/concentric_circles.hpp"
#include "moesim/model/full_batch_langevin.hpp"
#include "moesim/model/multi_index_regression.hpp"

#include <boost/mpi/collectives.hpp>
#include <fmt/format.h>

#include <cmath>
#include <functional>

using namespace moesim;
using bench::Clock;

namespace {

struct Size {
    Eigen::Index dim, particles, samples;
};

// The data set of that shape: circles (logistic loss) at d = 2, else the multi-index
// regression (squared loss), as the experiment's two configurations.
model::LabelledData data_of(const Size& s) {
    if (s.dim == 2)
        return model::concentric_circles(1, {.samples = s.samples});
    return model::multi_index_regression(1, {.samples = s.samples, .dim = s.dim, .indices = s.dim});
}

// Median seconds of a collective phase (slowest rank), after one warm-up call.
double time_collective(const boost::mpi::communicator& comm, double min_seconds, int min_reps,
                       const std::function<void()>& work, int* reps_out = nullptr) {
    work();
    std::vector<double> times;
    const auto begin = Clock::now();
    int reps = 0;
    while (true) {
        comm.barrier();
        const auto start = Clock::now();
        work();
        times.push_back(boost::mpi::all_reduce(comm, bench::seconds_since(start),
                                               boost::mpi::maximum<double>()));
        ++reps;
        // Rank 0 decides when to stop, so every rank runs the same number of collectives.
        int more = reps < min_reps || bench::seconds_since(begin) < min_seconds;
        boost::mpi::broadcast(comm, more, 0);
        if (!more)
            break;
    }
    if (reps_out != nullptr)
        *reps_out = reps;
    return bench::median(times);
}

std::string run(const boost::mpi::communicator& comm, int argc, char** argv) {
    std::vector<Size> sizes;
    for (const auto& v :
         bench::parse_size_list(bench::option(argc, argv, "--sizes",
                                              "2x500x160,2x10000x160,100x500x400,100x10000x400"),
                                3, "DIMxPARTICLESxSAMPLES"))
        sizes.push_back({v[0], v[1], v[2]});
    const auto block =
        static_cast<std::uint64_t>(std::stoul(bench::option(argc, argv, "--block", "64")));
    const double min_seconds = std::stod(bench::option(argc, argv, "--min-seconds", "2"));
    const int min_steps = std::stoi(bench::option(argc, argv, "--min-steps", "10"));
    const bool gemm = bench::option(argc, argv, "--gemm", "1") != "0";
    const double gemm_seconds = std::min(0.5, min_seconds);

    std::vector<bench::GemmResult> gemms;
    if (gemm && comm.rank() == 0) { // rank 0 alone, the others wait in the next collective
        for (Eigen::Index n : {256, 512})
            gemms.push_back(bench::gemm_square(n, gemm_seconds));
        for (const Size& s : sizes) {
            gemms.push_back(bench::gemm_a_bt(fmt::format("forward_block_d{}", s.dim), s.samples,
                                             s.dim, Eigen::Index(block), gemm_seconds));
            gemms.push_back(bench::gemm_at_b(fmt::format("gradient_block_d{}", s.dim),
                                             Eigen::Index(block), s.samples, s.dim, 1.0,
                                             gemm_seconds));
        }
    }
    double best = 0;
    for (const auto& g : gemms)
        best = std::max(best, g.gflops());

    std::vector<std::string> size_json;
    for (const Size& s : sizes) {
        const model::LabelledData train = data_of(s);
        const model::FullBatchLangevinParams params{
            .learning_rate = s.dim == 2 ? 0.1 : 0.01,
            .l2 = 0.1,
            .entropy = 0.01,
            .scale = 10.0,
            .loss = s.dim == 2 ? model::PredictionLoss::logistic : model::PredictionLoss::squared};
        model::FullBatchLangevin dynamics(
            comm, par::BlockPartition(std::uint64_t(s.particles), block, comm.size()), train,
            params, 1);
        dynamics.initialize(1.0);
        std::uint64_t step = 0;
        int steps = 0;
        const double t_step = time_collective(
            comm, min_seconds, min_steps,
            [&] {
                if (!std::isfinite(dynamics.step(step++)))
                    throw std::runtime_error("non-finite training loss in benchmark");
            },
            &steps);
        auto& net = dynamics.network();
        Eigen::VectorXd dloss;
        const double t_forward = time_collective(comm, min_seconds / 4, 5, [&] {
            dloss = model::mean_loss_gradient(params.loss, net.forward(train.inputs), train.labels);
        });
        const double t_gradient = time_collective(comm, min_seconds / 4, 5, [&] {
            if (!std::isfinite(net.data_gradient(train.inputs, dloss).sum()))
                throw std::runtime_error("non-finite gradient in benchmark");
        });
        double entropy = 0;
        const double t_entropy = time_collective(comm, 0.0, 1, [&] {
            entropy = model::knn_entropy(comm, net.partition(), net.particles());
        });
        const double flops =
            4.0 * double(s.samples) * double(s.particles) * double(s.dim); // the two products
        std::string fraction = "null";
        if (best > 0)
            fraction = fmt::format("{:.4f}", flops / t_step / 1e9 / best);
        size_json.push_back(fmt::format(
            "{{\"dim\": {}, \"particles\": {}, \"samples\": {}, \"loss\": \"{}\", "
            "\"steps_timed\": {}, \"median_seconds\": {:.6e}, \"gflops\": {:.3f}, "
            "\"fraction_of_best_gemm\": {}, \"particle_steps_per_second\": {:.4e}, "
            "\"phases_median_seconds\": {{\"forward\": {:.6e}, \"data_gradient\": {:.6e}, "
            "\"update_and_noise\": {:.6e}}}, \"knn_entropy_seconds\": {:.6e}, "
            "\"knn_entropy\": {:.6f}}}",
            s.dim, s.particles, s.samples, model::to_string(params.loss), steps, t_step,
            flops / t_step / 1e9, fraction, double(s.particles) / t_step, t_forward, t_gradient,
            std::max(0.0, t_step - t_forward - t_gradient), t_entropy, entropy));
    }

    std::string gemm_list, size_list;
    for (const auto& g : gemms)
        gemm_list += (gemm_list.empty() ? "" : ", ") + g.json();
    for (const auto& j : size_json)
        size_list += (size_list.empty() ? "\n    " : ",\n    ") + j;
    return fmt::format("{{\"benchmark\": \"poc_step\", \"build\": {}, \"block_size\": {}, "
                       "\"flop_count\": \"4*n*N*d (forward and gradient products)\", "
                       "\"gemm\": [{}], \"gemm_best_gflops\": {:.3f}, \"sizes\": [{}\n]}}",
                       bench::build_json(comm), block, gemm_list, best, size_list);
}

} // namespace

int main(int argc, char** argv) {
    return moesim::bench::bench_main(argc, argv, "bench_poc_step", run);
}
