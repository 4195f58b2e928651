// bench_mfld_step: seconds per model::MeanFieldLangevin::step (batch generation, forward,
// gradient, weight decay, Langevin noise) at several sizes, next to this machine's Eigen
// GEMM rate for square products and for the step's own block products, so the step can be
// reported as a fraction of the best GEMM rate measured in the same run. Also splits the
// step into its phases and times its tanh sweep and its Langevin normals on their own.
// Usage: bench_mfld_step [--sizes 16x1024x256,...] [--block 64] [--min-seconds 2]
//        [--min-steps 10] [--gemm 1] [--output FILE]; runs under mpirun at any rank count.

#include "bench_common.hpp"

#include "model/fused_tanh.hpp"
#include "model/packed_lhs_product.hpp"
#include "moesim/core/normal_rows.hpp"
#include "moesim/model/mean_field_langevin.hpp"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/environment.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <functional>
#include <sstream>

using namespace moesim;
using bench::Clock;
using model::RowMatrix;

namespace {

struct Size {
    Eigen::Index dim, particles, batch;
};

std::vector<Size> parse_sizes(const std::string& text) {
    std::vector<Size> sizes;
    for (const auto& v : bench::parse_size_list(text, 3, "DIMxPARTICLESxBATCH"))
        sizes.push_back({v[0], v[1], v[2]});
    return sizes;
}

// Nanoseconds per element of the forward pass's activation: scalar std::tanh, and the step's
// own sweep (model::impl::tanh_accumulate: tanh, the row sums and 1 - tanh^2 in one pass).
// And nanoseconds per normal of core::fill_normal_rows (the Langevin noise) against the scalar
// Philox::fill_normal, for rows of `dim` normals.
std::string tanh_json(Eigen::Index elements, Eigen::Index dim, double min_seconds) {
    const Eigen::ArrayXd z = Eigen::ArrayXd::Random(elements) * 3.0;
    Eigen::ArrayXd value(elements), derivative(elements), sums = Eigen::ArrayXd::Zero(elements);
    const double scalar = bench::time_local(
        [&] {
            for (Eigen::Index i = 0; i < elements; ++i) {
                value(i) = std::tanh(z(i));
                derivative(i) = 1.0 - value(i) * value(i);
            }
        },
        min_seconds);
    const double fused = bench::time_local(
        [&] {
            model::impl::tanh_accumulate(z.data(), static_cast<std::size_t>(elements), sums.data(),
                                         derivative.data());
        },
        min_seconds);
    const core::Philox rng(1, "bench.noise");
    const Eigen::Index rows = std::max<Eigen::Index>(1, elements / dim);
    RowMatrix noise(rows, dim);
    std::uint32_t step = 0;
    const double vectorised = bench::time_local(
        [&] {
            core::fill_normal_rows(rng, 0, step++, static_cast<std::size_t>(rows),
                                   static_cast<std::size_t>(dim),
                                   std::span<double>(noise.data(), noise.size()));
        },
        min_seconds);
    const double per_particle = bench::time_local(
        [&] {
            for (Eigen::Index i = 0; i < rows; ++i)
                rng.fill_normal(
                    static_cast<std::uint64_t>(i), step,
                    std::span<double>(noise.row(i).data(), static_cast<std::size_t>(dim)));
            ++step;
        },
        min_seconds);
    const double normals = double(rows * dim);
    return fmt::format(
        "{{\"elements\": {}, \"std_tanh_ns\": {:.3f}, \"fused_tanh_ns\": {:.3f}, "
        "\"normal_dim\": {}, \"fill_normal_rows_ns\": {:.3f}, \"fill_normal_ns\": {:.3f}}}",
        elements, scalar / double(elements) * 1e9, fused / double(elements) * 1e9, dim,
        vectorised / normals * 1e9, per_particle / normals * 1e9);
}

struct StepTimes {
    std::vector<double> wall, cpu; // per step, the slowest rank's
};

// Per-step wall and CPU seconds of dynamics.step: a barrier before each step, the slowest rank.
// Step count chosen by rank 0 from the warm-up and broadcast, so all ranks agree.
StepTimes time_steps(const boost::mpi::communicator& comm, model::MeanFieldLangevin& dynamics,
                     std::uint64_t& step, double min_seconds, int min_steps) {
    auto one = [&](StepTimes& out) {
        comm.barrier();
        const auto start = Clock::now();
        const double cpu_start = bench::thread_cpu_seconds();
        const double loss = dynamics.step(step++);
        const double local[2] = {bench::seconds_since(start),
                                 bench::thread_cpu_seconds() - cpu_start};
        if (!std::isfinite(loss))
            throw std::runtime_error("non-finite batch loss in benchmark");
        double slowest[2];
        boost::mpi::all_reduce(comm, local, 2, slowest, boost::mpi::maximum<double>());
        out.wall.push_back(slowest[0]);
        out.cpu.push_back(slowest[1]);
    };
    StepTimes warmup;
    for (int i = 0; i < 3; ++i)
        one(warmup);
    int steps =
        static_cast<int>(std::ceil(min_seconds / std::max(bench::median(warmup.wall), 1e-9)));
    steps = std::clamp(steps, min_steps, 100000);
    boost::mpi::broadcast(comm, steps, 0);
    StepTimes times;
    for (int i = 0; i < steps; ++i)
        one(times);
    return times;
}

// Median seconds of a collective phase (slowest rank), `reps` times.
double time_phase(const boost::mpi::communicator& comm, int reps,
                  const std::function<void()>& work) {
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        comm.barrier();
        const auto start = Clock::now();
        work();
        times.push_back(boost::mpi::all_reduce(comm, bench::seconds_since(start),
                                               boost::mpi::maximum<double>()));
    }
    return bench::median(times);
}

std::string run(const boost::mpi::communicator& comm, int argc, char** argv) {
    const auto sizes =
        parse_sizes(bench::option(argc, argv, "--sizes", "16x1024x256,64x4096x512,256x4096x1024"));
    const auto block =
        static_cast<std::uint64_t>(std::stoul(bench::option(argc, argv, "--block", "64")));
    const double min_seconds = std::stod(bench::option(argc, argv, "--min-seconds", "2"));
    const int min_steps = std::stoi(bench::option(argc, argv, "--min-steps", "10"));
    const bool gemm = bench::option(argc, argv, "--gemm", "1") != "0";
    const double gemm_seconds = std::min(0.5, min_seconds);

    // GEMM rates: rank 0 alone while the others wait, so it has its core to itself.
    std::vector<bench::GemmResult> gemms;
    if (gemm && comm.rank() == 0) {
        for (Eigen::Index n : {256, 512, 1024})
            gemms.push_back(bench::gemm_square(n, gemm_seconds));
        for (const Size& s : sizes) {
            // predict(): inputs (B x d) times a block's particles transposed.
            gemms.push_back(bench::gemm_a_bt("forward_block", s.batch, s.dim, Eigen::Index(block),
                                             gemm_seconds));
            // data_gradient(): (B x block)^T (B x d) / B.
            gemms.push_back(bench::gemm_at_b("gradient_block", Eigen::Index(block), s.batch, s.dim,
                                             1.0 / double(s.batch), gemm_seconds));
        }
    }
    double best = 0;
    for (const auto& g : gemms)
        best = std::max(best, g.gflops());

    std::vector<std::string> size_json;
    for (const Size& s : sizes) {
        const std::uint64_t seed = 1;
        const model::MeanFieldTeacher teacher(seed, s.dim, 4, 2.0, 0.0, model::Activation::tanh);
        const model::LangevinParams params{
            .learning_rate = 0.2, .entropy = 1e-4, .l2 = 1e-3, .batch = s.batch, .data_term = true};
        const par::BlockPartition partition(std::uint64_t(s.particles), block, comm.size());
        model::MeanFieldLangevin dynamics(comm, partition, s.dim, model::Activation::tanh, teacher,
                                          params, seed);
        dynamics.initialize(0.25);
        std::uint64_t step = 0;
        const StepTimes measured = time_steps(comm, dynamics, step, min_seconds, min_steps);
        const auto& times = measured.wall;
        const double med = bench::median(times);
        const double med_cpu = bench::median(measured.cpu);
        const double flops = 4.0 * double(s.batch) * double(s.particles) * double(s.dim);

        // Phases of one step through the public API, on the batch of the next step.
        RowMatrix inputs;
        Eigen::VectorXd labels, residual;
        auto& net = dynamics.network();
        const int reps = std::max(5, std::min(200, int(times.size())));
        const double t_sample = time_phase(comm, reps, [&] {
            teacher.sample("train", step * std::uint64_t(s.batch), s.batch, inputs, labels);
        });
        const double t_predict =
            time_phase(comm, reps, [&] { residual = net.predict(inputs) - labels; });
        // The gradient products as the step forms them (a block at a time, no full matrix).
        const double t_gradient = time_phase(comm, reps, [&] {
            double check = 0;
            net.data_gradient_blocks(inputs, residual,
                                     [&](Eigen::Index, const RowMatrix& g) { check += g(0, 0); });
            if (!std::isfinite(check))
                throw std::runtime_error("non-finite gradient in benchmark");
        });
        // The forward products alone (the block GEMMs of predict, without the tanh sweep), and
        // the Langevin noise alone (a block of normals at a time, as step draws it).
        const auto& net_partition = net.partition();
        const par::IdRange blocks = net_partition.blocks_of(comm.rank());
        // As predict() forms them: the batch packed once per block width
        // (model::impl::PackedLhsProduct), then one product per block.
        Eigen::MatrixXd pre;
        model::impl::PackedLhsProduct<Eigen::RowMajor, Eigen::ColMajor> forward;
        const double t_forward_products = time_phase(comm, reps, [&] {
            Eigen::Index packed_width = -1;
            for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
                const par::IdRange ids = net_partition.items_in_block(b);
                const auto width = static_cast<Eigen::Index>(ids.size());
                if (width != packed_width) {
                    forward.pack(inputs.data(), s.dim, s.batch, s.dim, width);
                    packed_width = width;
                }
                pre.resize(s.batch, width);
                forward.multiply(net.particles().data() +
                                     static_cast<Eigen::Index>(ids.begin - net.local_ids().begin) *
                                         s.dim,
                                 s.dim, pre.data(), s.batch);
            }
        });
        const core::Philox noise_rng(seed, "mfld.noise");
        RowMatrix noise;
        const double t_noise = time_phase(comm, reps, [&] {
            for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
                const par::IdRange ids = net_partition.items_in_block(b);
                noise.resize(static_cast<Eigen::Index>(ids.size()), s.dim);
                core::fill_normal_rows(noise_rng, ids.begin, static_cast<std::uint32_t>(step),
                                       ids.size(), static_cast<std::size_t>(s.dim),
                                       std::span<double>(noise.data(), noise.size()));
            }
        });
        const double local_particles = double(net.local_ids().size());

        std::string fraction = "null";
        if (best > 0)
            fraction = fmt::format("{:.4f}", flops / med / 1e9 / best);
        size_json.push_back(fmt::format(
            "{{\"dim\": {}, \"particles\": {}, \"batch\": {}, \"steps_timed\": {}, "
            "\"median_seconds\": {:.6e}, \"min_seconds\": {:.6e}, \"median_cpu_seconds\": {:.6e}, "
            "\"gflops\": {:.3f}, \"cpu_gflops\": {:.3f}, "
            "\"fraction_of_best_gemm\": {}, \"phases_median_seconds\": {{\"sample\": {:.6e}, "
            "\"predict\": {:.6e}, \"data_gradient\": {:.6e}, \"update_and_noise\": {:.6e}, "
            "\"forward_products\": {:.6e}, \"noise\": {:.6e}}}, "
            "\"tanh_per_step_local\": {}}}",
            s.dim, s.particles, s.batch, times.size(), med,
            *std::min_element(times.begin(), times.end()), med_cpu, flops / med / 1e9,
            flops / med_cpu / 1e9, fraction, t_sample, t_predict, t_gradient,
            std::max(0.0, med - t_sample - t_predict - t_gradient), t_forward_products, t_noise,
            double(s.batch) * local_particles));
    }

    std::string tanh = "null";
    if (comm.rank() == 0)
        tanh = tanh_json(sizes.front().batch * Eigen::Index(block), sizes.back().dim, gemm_seconds);

    std::string gemm_list;
    for (const auto& g : gemms)
        gemm_list += (gemm_list.empty() ? "" : ", ") + g.json();
    std::string size_list;
    for (const auto& j : size_json)
        size_list += (size_list.empty() ? "\n    " : ",\n    ") + j;
    return fmt::format("{{\"benchmark\": \"mfld_step\", \"build\": {}, \"block_size\": {}, "
                       "\"flop_count\": \"4*B*N*d (forward and gradient products)\", "
                       "\"gemm\": [{}], \"gemm_best_gflops\": {:.3f}, \"tanh\": {}, "
                       "\"sizes\": [{}\n]}}",
                       bench::build_json(comm), block, gemm_list, best, tanh, size_list);
}

} // namespace

int main(int argc, char** argv) {
    return moesim::bench::bench_main(argc, argv, "bench_mfld_step", run);
}
