// bench_misspec_fit: seconds per fit of the misspec experiment's two fits on +-mu data
// (model::sample_mixture, K = 2, SNR --snr, sigma 1): hard assignment (fit::lloyd) and
// fixed-variance EM (fit::fit_isotropic_mixture at tau = --rho sigma), for the comparison with
// scikit-learn's KMeans (Lloyd) and a numpy fixed-variance EM (bench/peers/
// misspec_fit_sklearn.py). For each size it writes the data (n x d, float64, row-major) and
// the init (K x d: the true means scaled by 0.6 and shifted off the axis, the same for both
// fits and both sides) as raw little-endian files listed in DIR/manifest.json, and records
// our centres, iterations and objective so bench/report.py can compare the fits.
// Usage: bench_misspec_fit --dir DIR [--sizes 1x10000,...] (DxN) [--snr 4] [--rho 1]
//        [--tolerance 1e-10] [--max-iterations 300] [--min-seconds 2] [--max-repeats 50]
//        [--write-data 1] [--output FILE]; one rank (the fits are serial).

#include "bench_common.hpp"

#include "moesim/fit/isotropic_mixture_em.hpp"
#include "moesim/fit/kmeans.hpp"
#include "moesim/model/gaussian_mixture.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>

using namespace moesim;
using bench::Clock;

namespace {

struct Size {
    Eigen::Index d, n;
};

std::vector<Size> parse_sizes(const std::string& text) {
    std::vector<Size> sizes;
    for (const auto& v : bench::parse_size_list(text, 2, "DxN (d >= 1, n >= 100)")) {
        if (v[0] < 1 || v[1] < 100)
            throw std::runtime_error(
                fmt::format("bad size '{}x{}', expected DxN (d >= 1, n >= 100)", v[0], v[1]));
        sizes.push_back({v[0], v[1]});
    }
    return sizes;
}

std::string default_sizes() {
    std::string out;
    for (int d : {1, 4, 16})
        for (int n : {10000, 100000, 1000000})
            out += fmt::format("{}{}x{}", out.empty() ? "" : ",", d, n);
    return out;
}

/// Writes a matrix row-major as raw float64 (the layout numpy.fromfile reads back).
void write_raw(const std::string& path, const Eigen::MatrixXd& m) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = m;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(rows.data()),
              static_cast<std::streamsize>(sizeof(double) * std::size_t(rows.size())));
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

std::string json_matrix(const Eigen::MatrixXd& m) {
    std::string out = "[";
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
        out += i ? ", [" : "[";
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            out += fmt::format("{}{:.17g}", j ? ", " : "", m(i, j));
        out += "]";
    }
    return out + "]";
}

struct Timing {
    std::vector<double> wall, cpu;
    std::string json() const {
        return fmt::format("\"fits_timed\": {}, \"median_seconds\": {:.6e}, \"min_seconds\": "
                           "{:.6e}, \"median_cpu_seconds\": {:.6e}",
                           wall.size(), bench::median(wall),
                           *std::min_element(wall.begin(), wall.end()), bench::median(cpu));
    }
};

/// Repeats `fit` until min_seconds have passed (at least once, at most max_repeats).
template <class Fit> Timing time_fits(Fit fit, double min_seconds, int max_repeats) {
    Timing t;
    const auto begin = Clock::now();
    while (t.wall.empty() ||
           (bench::seconds_since(begin) < min_seconds && int(t.wall.size()) < max_repeats)) {
        const auto start = Clock::now();
        const std::clock_t cpu_start = std::clock();
        fit();
        t.wall.push_back(bench::seconds_since(start));
        t.cpu.push_back(double(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    }
    return t;
}

std::string run(const boost::mpi::communicator& comm, int argc, char** argv) {
    if (comm.size() != 1)
        throw std::runtime_error("bench_misspec_fit runs on one rank");
    const std::string dir = bench::option(argc, argv, "--dir", "");
    if (dir.empty())
        throw std::runtime_error("--dir is required");
    std::filesystem::create_directories(dir);
    const auto sizes = parse_sizes(bench::option(argc, argv, "--sizes", default_sizes()));
    const double snr = std::stod(bench::option(argc, argv, "--snr", "4"));
    const double rho = std::stod(bench::option(argc, argv, "--rho", "1"));
    const double tolerance = std::stod(bench::option(argc, argv, "--tolerance", "1e-10"));
    const auto max_iterations = std::stoll(bench::option(argc, argv, "--max-iterations", "300"));
    const double min_seconds = std::stod(bench::option(argc, argv, "--min-seconds", "2"));
    const int max_repeats = std::stoi(bench::option(argc, argv, "--max-repeats", "50"));
    const bool write_data = bench::option(argc, argv, "--write-data", "1") != "0";
    const std::uint64_t seed = 2026;
    const double sigma = 1.0;

    std::vector<std::string> rows, manifest;
    for (std::size_t s = 0; s < sizes.size(); ++s) {
        const auto [d, n] = sizes[s];
        model::GaussianMixture mix;
        mix.sigma = sigma;
        mix.means = model::mixture_means(model::MixtureGeometry::symmetric, 2, d, snr, sigma);
        mix.weights = model::uniform_weights(2);
        const model::MixtureSample sample =
            model::sample_mixture(mix, seed, static_cast<std::uint32_t>(s), n);
        Eigen::MatrixXd init = 0.6 * mix.means;
        init(0, d - 1) += 0.3;
        init(1, d - 1) -= 0.2;
        const std::string id = fmt::format("d{}_n{}", d, n);
        const std::string data_path = fmt::format("{}/{}.f64", dir, id);
        const std::string init_path = fmt::format("{}/{}_init.f64", dir, id);
        if (write_data) {
            write_raw(data_path, sample.x);
            write_raw(init_path, init);
        }
        manifest.push_back(fmt::format(
            "{{\"id\": \"{}\", \"k\": 2, \"d\": {}, \"n\": {}, \"data\": \"{}\", \"init\": "
            "\"{}\"}}",
            id, d, n, data_path, init_path));

        fit::LloydResult hard;
        const fit::LloydSettings lloyd{.max_iterations = max_iterations, .tolerance = tolerance};
        const Timing hard_time =
            time_fits([&] { hard = fit::lloyd(sample.x, init, lloyd); }, min_seconds, max_repeats);
        fit::IsotropicEmResult soft;
        const fit::IsotropicEmSettings em{.variance = rho * rho * sigma * sigma,
                                          .estimate_weights = false,
                                          .tolerance = tolerance,
                                          .max_iterations = max_iterations};
        const Timing soft_time =
            time_fits([&] { soft = fit::fit_isotropic_mixture(sample.x, init, mix.weights, em); },
                      min_seconds, max_repeats);
        rows.push_back(fmt::format(
            "{{\"id\": \"{}\", \"k\": 2, \"d\": {}, \"n\": {},\n     \"hard\": {{{}, "
            "\"iterations\": {}, \"converged\": {}, \"objective\": {:.17g}, \"centres\": {}}},\n"
            "     \"soft\": {{{}, \"iterations\": {}, \"converged\": {}, \"log_likelihood\": "
            "{:.17g}, \"means\": {}}}}}",
            id, d, n, hard_time.json(), hard.iterations, hard.converged ? "true" : "false",
            hard.objective, json_matrix(hard.centres), soft_time.json(), soft.iterations,
            soft.converged ? "true" : "false", soft.log_likelihood, json_matrix(soft.means)));
        std::fprintf(stderr, "bench_misspec_fit: %s hard %.4g s (%lld it), soft %.4g s (%lld it)\n",
                     id.c_str(), bench::median(hard_time.wall),
                     static_cast<long long>(hard.iterations), bench::median(soft_time.wall),
                     static_cast<long long>(soft.iterations));
    }
    std::string list, files;
    for (const auto& r : rows)
        list += (list.empty() ? "\n    " : ",\n    ") + r;
    for (const auto& m : manifest)
        files += (files.empty() ? "\n  " : ",\n  ") + m;
    const std::string settings = fmt::format(
        "\"k\": 2, \"geometry\": \"symmetric\", \"snr\": {:.17g}, \"sigma\": {:.17g}, "
        "\"rho\": {:.17g}, \"variance\": {:.17g}, \"tolerance\": {:.3g}, \"max_iterations\": {}",
        snr, sigma, rho, rho * rho * sigma * sigma, tolerance, max_iterations);
    if (write_data) {
        std::ofstream out(dir + "/manifest.json");
        out << fmt::format("{{{}, \"sizes\": [{}\n]}}\n", settings, files);
        if (!out)
            throw std::runtime_error("cannot write " + dir + "/manifest.json");
    }
    return fmt::format("{{\"benchmark\": \"misspec_fit\", \"build\": {}, \"seed\": {}, {}, "
                       "\"timed\": \"fit::lloyd and fit::fit_isotropic_mixture from the given "
                       "init\", \"sizes\": [{}\n]}}",
                       bench::build_json(comm), seed, settings, list);
}

} // namespace

int main(int argc, char** argv) {
    return moesim::bench::bench_main(argc, argv, "bench_misspec_fit", run);
}
