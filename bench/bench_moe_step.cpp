// bench_moe_step: seconds per SGD training step of model::MoeLayer (forward, backward, SGD
// update of the local experts and the replicated router, as the sgd experiment does it
// without the sphere projection) at several sizes, split into the layer's phase timers
// (route, dispatch, expert, combine, reduce), next to this machine's Eigen GEMM rate for
// square products and for the experts' own products, so the step can be reported as a
// fraction of the best GEMM rate measured in the same run. Inputs and labels are fixed
// across steps (Philox normals by sample id: the same at any rank count); relu experts,
// loss 0.5 * mean squared residual, as bench/peers/moe_step_torch.py.
// Usage: bench_moe_step [--sizes 64x4x16x256x1,...] (DIMxEXPERTSxHIDDENxBATCHxK)
//        [--sample-block 32] [--min-seconds 2] [--min-steps 10] [--gemm 1] [--input-gradient 0]
//        [--output FILE];
//        runs under mpirun at any rank count (experts in blocks of 1 over the ranks).

#include "bench_common.hpp"

#include "moesim/core/philox.hpp"
#include "moesim/model/moe_layer.hpp"
#include "moesim/model/softmax_topk_router.hpp"

#include <boost/mpi/collectives.hpp>
#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <sstream>

using namespace moesim;
using bench::Clock;
using model::RowMatrix;

namespace {

struct Size {
    Eigen::Index dim, experts, hidden, batch, k;
};

std::vector<Size> parse_sizes(const std::string& text) {
    std::vector<Size> sizes;
    for (const auto& v : bench::parse_size_list(text, 5, "DIMxEXPERTSxHIDDENxBATCHxK"))
        sizes.push_back({v[0], v[1], v[2], v[3], v[4]});
    return sizes;
}

double max_over_ranks(const boost::mpi::communicator& comm, double value) {
    return boost::mpi::all_reduce(comm, value, boost::mpi::maximum<double>());
}

std::string run(const boost::mpi::communicator& comm, int argc, char** argv) {
    const auto sizes = parse_sizes(bench::option(
        argc, argv, "--sizes", "64x4x16x256x1,256x8x64x512x1,512x8x128x1024x2,1024x8x256x1024x1"));
    const auto sample_block =
        static_cast<std::uint64_t>(std::stoul(bench::option(argc, argv, "--sample-block", "32")));
    const double min_seconds = std::stod(bench::option(argc, argv, "--min-seconds", "2"));
    const int min_steps = std::stoi(bench::option(argc, argv, "--min-steps", "10"));
    const bool gemm = bench::option(argc, argv, "--gemm", "1") != "0";
    const bool input_gradient = bench::option(argc, argv, "--input-gradient", "0") != "0";
    const double gemm_seconds = std::min(0.5, min_seconds);
    const double lr_experts = 0.01, lr_router = 0.01;
    const std::uint64_t seed = 1;

    // GEMM rates: rank 0 alone while the others wait, so it has its core to itself. The
    // expert products at the balanced batch n_e = B k / E.
    std::vector<bench::GemmResult> gemms;
    if (gemm && comm.rank() == 0) {
        for (Eigen::Index n : {256, 512, 1024})
            gemms.push_back(bench::gemm_square(n, gemm_seconds));
        for (const Size& s : sizes) {
            const Eigen::Index rows = s.batch * s.k / s.experts;
            // MoeLayer: an expert's batch (n_e x d) times its weights (hidden x d) transposed.
            gemms.push_back(
                bench::gemm_a_bt("expert_forward", rows, s.dim, s.hidden, gemm_seconds));
            // MoeLayer::backward: (n_e x hidden)^T (n_e x d).
            gemms.push_back(bench::gemm_at_b("expert_weight_gradient", s.hidden, rows, s.dim, 1.0,
                                             gemm_seconds));
        }
    }
    comm.barrier();
    double best = 0;
    for (const auto& g : gemms)
        best = std::max(best, g.gflops());

    std::vector<std::string> size_json;
    for (const Size& s : sizes) {
        const par::BlockPartition experts(std::uint64_t(s.experts), 1, comm.size());
        const par::BlockPartition samples(std::uint64_t(s.batch), sample_block, comm.size());
        model::MoeLayer layer(comm, experts, s.dim, s.hidden, model::Activation::relu,
                              std::make_unique<model::SoftmaxTopKRouter>(s.dim, s.experts, s.k));
        // As the sgd experiment (and the PyTorch peer, whose inputs need no grad): no dL/dx.
        layer.set_input_gradient(input_gradient);
        const double sd = 1.0 / std::sqrt(double(s.dim));
        layer.initialize(seed, sd, 1.0 / std::sqrt(double(s.hidden)), sd);

        // Fixed inputs and labels, by global sample id.
        const par::IdRange mine = samples.items_of(comm.rank());
        RowMatrix inputs(Eigen::Index(mine.size()), s.dim);
        Eigen::VectorXd labels(Eigen::Index(mine.size()));
        const core::Philox rng(seed, "bench.moe_inputs");
        for (Eigen::Index i = 0; i < inputs.rows(); ++i) {
            const std::uint64_t id = mine.begin + std::uint64_t(i);
            rng.fill_normal(id, 0, std::span<double>(inputs.row(i).data(), std::size_t(s.dim)));
            labels(i) = rng.normal_pair(id, 1, 0)[0];
        }

        auto one_step = [&] {
            const Eigen::VectorXd residual = layer.forward(samples, inputs) - labels;
            layer.backward(residual / double(s.batch));
            layer.expert_weights() -= lr_experts * layer.expert_weight_gradient();
            layer.expert_output_weights() -= lr_experts * layer.expert_output_weight_gradient();
            auto router = layer.router().parameters();
            for (std::size_t p = 0; p < router.size(); ++p)
                router[p] -= lr_router * layer.router_gradient()[p];
            if (!std::isfinite(residual.squaredNorm()))
                throw std::runtime_error("non-finite residual in benchmark");
        };
        // Per-step seconds: a barrier before each step, the slowest rank's time. Step count
        // chosen by rank 0 from the warm-up and broadcast, so all ranks agree.
        // CPU time too (the stepping thread's, slowest rank): steadier than wall time on this
        // shared machine.
        std::vector<double> cpu_times;
        auto timed = [&] {
            comm.barrier();
            const auto start = Clock::now();
            const double cpu_start = bench::thread_cpu_seconds();
            one_step();
            cpu_times.push_back(max_over_ranks(comm, bench::thread_cpu_seconds() - cpu_start));
            return max_over_ranks(comm, bench::seconds_since(start));
        };
        std::vector<double> warmup;
        for (int i = 0; i < 3; ++i)
            warmup.push_back(timed());
        int steps = int(std::ceil(min_seconds / std::max(bench::median(warmup), 1e-9)));
        steps = std::clamp(steps, min_steps, 100000);
        boost::mpi::broadcast(comm, steps, 0);
        layer.phase_seconds() = {};
        cpu_times.clear();
        std::vector<double> times;
        for (int i = 0; i < steps; ++i)
            times.push_back(timed());
        const model::MoePhaseSeconds ph = layer.phase_seconds();
        const double total = std::accumulate(times.begin(), times.end(), 0.0);
        // Phase seconds per step: the slowest rank's, and rank-summed shares of each rank's
        // own time (dispatch and combine include waiting for the slowest rank's experts).
        const double per_step[5] = {ph.route / steps, ph.dispatch / steps, ph.expert / steps,
                                    ph.combine / steps, ph.reduce / steps};
        double slowest[5];
        for (int p = 0; p < 5; ++p)
            slowest[p] = max_over_ranks(comm, per_step[p]);
        const double share = (per_step[1] + per_step[3]) / (total / steps);
        const double share_max = max_over_ranks(comm, share);
        const double share_mean =
            boost::mpi::all_reduce(comm, share, std::plus<double>()) / comm.size();

        const auto& load = layer.expert_load();
        const double max_load = *std::max_element(load.begin(), load.end());
        const double mean_load = double(s.batch * s.k) / double(s.experts);

        const double med = bench::median(times);
        // Forward and weight-gradient products (2 + 2 flops per multiply-add), plus the input
        // gradient's 2 when it is formed.
        const double per_term = input_gradient ? 6.0 : 4.0;
        const double expert_flops = per_term * double(s.batch * s.k * s.hidden * s.dim);
        const double router_flops = per_term * double(s.batch * s.experts * s.dim);
        const double flops = expert_flops + router_flops;
        std::string fraction = "null";
        if (best > 0)
            fraction = fmt::format("{:.4f}", flops / med / 1e9 / best);
        size_json.push_back(fmt::format(
            "{{\"dim\": {}, \"experts\": {}, \"hidden\": {}, \"batch\": {}, \"top_k\": {}, "
            "\"steps_timed\": {}, \"median_seconds\": {:.6e}, \"min_seconds\": {:.6e}, "
            "\"median_cpu_seconds\": {:.6e}, "
            "\"mean_seconds\": {:.6e}, \"gflops\": {:.3f}, \"expert_gflops\": {:.3f}, "
            "\"fraction_of_best_gemm\": {}, \"max_over_mean_expert_load\": {:.4f}, "
            "\"phases_seconds_per_step_slowest_rank\": {{\"route\": {:.6e}, \"dispatch\": "
            "{:.6e}, \"expert\": {:.6e}, \"combine\": {:.6e}, \"reduce\": {:.6e}}}, "
            "\"dispatch_combine_share_rank0\": {:.4f}, \"dispatch_combine_share_max\": {:.4f}, "
            "\"dispatch_combine_share_mean\": {:.4f}}}",
            s.dim, s.experts, s.hidden, s.batch, s.k, times.size(), med,
            *std::min_element(times.begin(), times.end()), bench::median(cpu_times), total / steps,
            flops / med / 1e9, expert_flops / med / 1e9, fraction, max_load / mean_load, slowest[0],
            slowest[1], slowest[2], slowest[3], slowest[4], share, share_max, share_mean));
    }

    std::string gemm_list;
    for (const auto& g : gemms)
        gemm_list += (gemm_list.empty() ? "" : ", ") + g.json();
    std::string size_list;
    for (const auto& j : size_json)
        size_list += (size_list.empty() ? "\n    " : ",\n    ") + j;
    return fmt::format(
        "{{\"benchmark\": \"moe_step\", \"build\": {}, \"sample_block\": {}, \"expert_block\": 1, "
        "\"activation\": \"relu\", \"input_gradient\": {}, \"flop_count\": \"{}\", "
        "\"gemm\": [{}], \"gemm_best_gflops\": {:.3f}, \"sizes\": [{}\n]}}",
        bench::build_json(comm), sample_block, input_gradient,
        input_gradient ? "6*B*k*hidden*d (expert forward, weight and input gradients) + "
                         "6*B*E*d (router)"
                       : "4*B*k*hidden*d (expert forward and weight gradients; no input "
                         "gradient, as the sgd experiment and the PyTorch peer) + 4*B*E*d "
                         "(router forward and weight gradient)",
        gemm_list, best, size_list);
}

} // namespace

int main(int argc, char** argv) {
    return moesim::bench::bench_main(argc, argv, "bench_moe_step", run);
}
