// bench_rates_fit: seconds per EM fit (fit::fit_em, softmax gate, k-means++ init, one restart)
// of softmax-gated Gaussian MoE data sets drawn by model::sample_moe, for the comparison with
// R flexmix (bench/peers/flexmix_fit.R). For each size it writes the data set and the
// posterior EM starts from (the E-step at our k-means++ init) as CSV, so the peer fits the
// same data from the same posterior, and records our fitted parameters and log-likelihood,
// so bench/report.py can evaluate both fits with one formula.
// Usage: bench_rates_fit --dir DIR [--sizes 2x1x1000,...] (KxDxN) [--tolerance 1e-10]
//        [--max-iterations 1000] [--min-seconds 2] [--max-repeats 20] [--write-data 1]
//        [--output FILE]; one rank (the fits are serial).

#include "bench_common.hpp"

#include "moesim/fit/em.hpp"
#include "moesim/model/gaussian_moe.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <numbers>
#include <sstream>

using namespace moesim;
using bench::Clock;

namespace {

struct Size {
    Eigen::Index k, d, n;
};

std::vector<Size> parse_sizes(const std::string& text) {
    std::vector<Size> sizes;
    for (const auto& v : bench::parse_size_list(text, 3, "KxDxN (k >= 2)")) {
        const Size s{v[0], v[1], v[2]};
        if (s.k < 2 || s.d < 1 || s.n < 10 * s.k)
            throw std::runtime_error(fmt::format("bad size '{}x{}x{}', expected KxDxN (k >= 2)",
                                                 s.k, s.d, s.n));
        sizes.push_back(s);
    }
    return sizes;
}

std::string default_sizes() {
    std::string out;
    for (int k : {2, 3})
        for (int d = 1; d <= 4; ++d)
            for (int n : {1000, 10000, 100000})
                out += fmt::format("{}{}x{}x{}", out.empty() ? "" : ",", k, d, n);
    return out;
}

/// Well-separated true parameters for any (k, d): gate slopes of size ~1.5 in directions that
/// differ by expert (the last is the reference 0), expert lines with distinct slopes and
/// biases 1.5 apart, variances 0.2-0.3. For k = 2, d = 2 the gate is that of
/// jobs/configs/rates-softmax.toml.
model::MoeParams truth(Eigen::Index k, Eigen::Index d) {
    model::MoeParams p = model::MoeParams::zeros(k, d);
    for (Eigen::Index i = 0; i + 1 < k; ++i) {
        for (Eigen::Index j = 0; j < d; ++j) {
            const double angle = std::numbers::pi * double((i + 1) * (j + 1)) / double(k + 1);
            p.gate_slope(i, j) = 1.5 * std::cos(angle + 0.7 * double(j));
            p.expert_slope(i, j) = (i % 2 == 0 ? 1.0 : -1.0) * (1.0 - 0.5 * double(j) / double(d));
        }
        p.gate_bias(i) = 0.3 - 0.2 * double(i);
    }
    for (Eigen::Index j = 0; j < d; ++j)
        p.expert_slope(k - 1, j) = 0.5 * std::sin(1.0 + double(j));
    for (Eigen::Index i = 0; i < k; ++i) {
        p.expert_bias(i) = 1.5 * (double(i) - 0.5 * double(k - 1));
        p.variance(i) = 0.2 + 0.1 * double(i % 2);
    }
    p.check();
    return p;
}

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const Eigen::MatrixXd& columns) {
    std::ofstream out(path);
    for (std::size_t c = 0; c < header.size(); ++c)
        out << (c ? "," : "") << header[c];
    out << "\n";
    for (Eigen::Index r = 0; r < columns.rows(); ++r) {
        std::string line;
        for (Eigen::Index c = 0; c < columns.cols(); ++c)
            line += fmt::format("{}{:.17g}", c ? "," : "", columns(r, c));
        out << line << "\n";
    }
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

std::string json_vector(const Eigen::VectorXd& v) {
    std::string out = "[";
    for (Eigen::Index i = 0; i < v.size(); ++i)
        out += fmt::format("{}{:.17g}", i ? ", " : "", v(i));
    return out + "]";
}

std::string json_matrix(const Eigen::MatrixXd& m) {
    std::string out = "[";
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        out += (i ? ", " : "") + json_vector(m.row(i).transpose());
    return out + "]";
}

std::string json_params(const model::MoeParams& p) {
    return fmt::format("{{\"gate_slope\": {}, \"gate_bias\": {}, \"expert_slope\": {}, "
                       "\"expert_bias\": {}, \"variance\": {}}}",
                       json_matrix(p.gate_slope), json_vector(p.gate_bias),
                       json_matrix(p.expert_slope), json_vector(p.expert_bias),
                       json_vector(p.variance));
}

std::string run(const boost::mpi::communicator& comm, int argc, char** argv) {
    if (comm.size() != 1)
        throw std::runtime_error("bench_rates_fit runs on one rank");
    const std::string dir = bench::option(argc, argv, "--dir", "");
    if (dir.empty())
        throw std::runtime_error("--dir is required");
    std::filesystem::create_directories(dir);
    const auto sizes = parse_sizes(bench::option(argc, argv, "--sizes", default_sizes()));
    fit::EmSettings settings;
    settings.init = fit::EmInit::kmeans_pp;
    settings.restarts = 1;
    settings.tolerance = std::stod(bench::option(argc, argv, "--tolerance", "1e-10"));
    settings.max_iterations = std::stoll(bench::option(argc, argv, "--max-iterations", "1000"));
    const double min_seconds = std::stod(bench::option(argc, argv, "--min-seconds", "2"));
    const int max_repeats = std::stoi(bench::option(argc, argv, "--max-repeats", "20"));
    const bool write_data = bench::option(argc, argv, "--write-data", "1") != "0";
    const std::uint64_t seed = 2026;
    const model::SoftmaxGate gate;

    std::vector<std::string> rows;
    std::string manifest = "id,k,d,n,data,init\n";
    for (std::size_t s = 0; s < sizes.size(); ++s) {
        const auto [k, d, n] = sizes[s];
        const model::MoeParams true_params = truth(k, d);
        const auto job = static_cast<std::uint32_t>(s);
        const model::Sample sample = model::sample_moe(gate, true_params, seed, job, n);
        const fit::InitSource source{nullptr, seed, job};
        const std::string id = fmt::format("k{}_d{}_n{}", k, d, n);
        const std::string data_path = fmt::format("{}/{}.csv", dir, id);
        const std::string init_path = fmt::format("{}/{}_init.csv", dir, id);
        manifest += fmt::format("{},{},{},{},{},{}\n", id, k, d, n, data_path, init_path);

        // The posterior our first M-step sees: the E-step at the k-means++ init of restart 0.
        const auto init_start = Clock::now();
        const model::MoeParams init = fit::initial_params(sample.x, sample.y, k, settings, source, 0);
        const double init_seconds = bench::seconds_since(init_start);
        Eigen::MatrixXd resp;
        const double init_loglik = fit::e_step(gate, sample.x, sample.y, init, resp);
        if (write_data) {
            std::vector<std::string> header;
            for (Eigen::Index j = 0; j < d; ++j)
                header.push_back(fmt::format("x{}", j + 1));
            header.push_back("y");
            Eigen::MatrixXd columns(n, d + 1);
            columns << sample.x, sample.y;
            write_csv(data_path, header, columns);
            header.clear();
            for (Eigen::Index i = 0; i < k; ++i)
                header.push_back(fmt::format("r{}", i + 1));
            write_csv(init_path, header, resp);
        }

        // Whole fits (k-means++ init included), repeated until min_seconds have passed.
        std::vector<double> times, cpu_times;
        fit::EmResult result;
        const auto begin = Clock::now();
        while (times.empty() ||
               (bench::seconds_since(begin) < min_seconds && int(times.size()) < max_repeats)) {
            const auto start = Clock::now();
            const std::clock_t cpu_start = std::clock();
            result = fit::fit_em(gate, sample.x, sample.y, k, settings, source);
            times.push_back(bench::seconds_since(start));
            cpu_times.push_back(double(std::clock() - cpu_start) / CLOCKS_PER_SEC);
        }
        const double check = model::log_density(gate, result.params, sample.x, sample.y).sum();
        rows.push_back(fmt::format(
            "{{\"id\": \"{}\", \"k\": {}, \"d\": {}, \"n\": {}, \"fits_timed\": {}, "
            "\"median_seconds\": {:.6e}, \"min_seconds\": {:.6e}, \"median_cpu_seconds\": {:.6e}, "
            "\"init_seconds\": {:.6e}, "
            "\"iterations\": {}, \"converged\": {}, \"log_likelihood\": {:.17g}, "
            "\"log_likelihood_recomputed\": {:.17g}, \"init_log_likelihood\": {:.17g}, "
            "\"params\": {}, \"truth\": {}}}",
            id, k, d, n, times.size(), bench::median(times),
            *std::min_element(times.begin(), times.end()), bench::median(cpu_times), init_seconds, result.iterations,
            result.converged ? "true" : "false", result.log_likelihood, check, init_loglik,
            json_params(result.params), json_params(true_params)));
        std::fprintf(stderr, "bench_rates_fit: %s %zu fits, median %.4g s, %lld iterations\n",
                     id.c_str(), times.size(), bench::median(times),
                     static_cast<long long>(result.iterations));
    }
    if (write_data) {
        std::ofstream out(dir + "/manifest.csv");
        out << manifest;
        if (!out)
            throw std::runtime_error("cannot write " + dir + "/manifest.csv");
    }
    std::string list;
    for (const auto& r : rows)
        list += (list.empty() ? "\n    " : ",\n    ") + r;
    return fmt::format(
        "{{\"benchmark\": \"rates_fit\", \"build\": {}, \"seed\": {}, \"tolerance\": {:.3g}, "
        "\"max_iterations\": {}, \"gate_newton_steps\": {}, \"init\": \"kmeans++\", "
        "\"timed\": \"fit::fit_em, k-means++ init included\", \"sizes\": [{}\n]}}",
        bench::build_json(comm), seed, settings.tolerance, settings.max_iterations,
        settings.gate_newton_steps, list);
}

} // namespace

int main(int argc, char** argv) {
    return moesim::bench::bench_main(argc, argv, "bench_rates_fit", run);
}
