#include "moesim/model/knn_entropy.hpp"

#include "moesim/core/error.hpp"
#include "moesim/par/all_gather_rows.hpp"
#include "moesim/par/deterministic_sum.hpp"

#include <nanoflann.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <span>
#include <vector>

namespace moesim::model {

namespace {

// psi(x) for x > 0: recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic
// series (error below 1e-15 there).
double digamma(double x) {
    double shift = 0.0;
    while (x < 10.0) {
        shift -= 1.0 / x;
        x += 1.0;
    }
    const double inv2 = 1.0 / (x * x);
    return shift + std::log(x) - 0.5 / x -
           inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 / 240)));
}

// The squared distance every path reports, summed over coordinates in order: the kd-tree
// (nanoflann's L2_Simple_Adaptor) computes the same expression, so both searches give the
// same bits for the same neighbour.
double squared_distance(const RowMatrix& cloud, Eigen::Index a, Eigen::Index b) {
    double sum = 0.0;
    for (Eigen::Index c = 0; c < cloud.cols(); ++c) {
        const double diff = cloud(a, c) - cloud(b, c);
        sum += diff * diff;
    }
    return sum;
}

struct CloudAdaptor {
    const RowMatrix& cloud;
    std::size_t kdtree_get_point_count() const { return static_cast<std::size_t>(cloud.rows()); }
    double kdtree_get_pt(std::size_t row, std::size_t coordinate) const {
        return cloud(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(coordinate));
    }
    template <class BoundingBox> bool kdtree_get_bbox(BoundingBox&) const { return false; }
};
using KdTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, CloudAdaptor>,
                                        CloudAdaptor, -1, std::size_t>;

// Log k-th neighbour distances of given query rows against a whole (centred) cloud.
class NeighbourFinder {
public:
    NeighbourFinder(const RowMatrix& cloud, int k, bool kd_tree)
        : cloud_(cloud), k_(k), adaptor_{cloud} {
        // The tree keeps a reference to adaptor_: the finder is neither copied nor moved.
        if (kd_tree) {
            tree_ = std::make_unique<KdTree>(static_cast<int>(cloud.cols()), adaptor_,
                                             nanoflann::KDTreeSingleIndexAdaptorParams(16));
        } else {
            norms_.resize(cloud.rows());
            for (Eigen::Index i = 0; i < cloud.rows(); ++i) {
                double sum = 0.0;
                for (Eigen::Index c = 0; c < cloud.cols(); ++c)
                    sum += cloud(i, c) * cloud(i, c);
                norms_(i) = sum;
            }
        }
    }

    NeighbourFinder(const NeighbourFinder&) = delete;
    NeighbourFinder& operator=(const NeighbourFinder&) = delete;

    /// 0.5 log eps_i^2 for the rows in `queries`, into out[0 .. queries.size()).
    void log_distances(par::IdRange queries, double* out) const {
        if (tree_)
            kd_tree(queries, out);
        else
            brute_force(queries, out);
    }

private:
    void kd_tree(par::IdRange queries, double* out) const {
        const auto wanted = static_cast<std::size_t>(k_) + 1; // the query itself comes first
        std::vector<std::size_t> index(wanted);
        std::vector<double> squared(wanted);
        for (std::uint64_t q = queries.begin; q < queries.end; ++q) {
            const auto row = static_cast<Eigen::Index>(q);
            const std::size_t found =
                tree_->knnSearch(cloud_.row(row).data(), wanted, index.data(), squared.data());
            core::require(found == wanted, "knn_entropy: kd-tree returned too few neighbours");
            // The (k+1)-th smallest distance counting the point itself is the k-th to others.
            out[q - queries.begin] = 0.5 * std::log(squared[wanted - 1]);
        }
    }

    // GEMM of a query block against fixed chunks of reference rows: the shapes depend only on
    // the block and the chunk, never on the rank. The k smallest by |q|^2 + |r|^2 - 2 q.r are
    // kept, then their distances are recomputed directly (no cancellation), as the kd-tree
    // reports them.
    void brute_force(par::IdRange queries, double* out) const {
        constexpr Eigen::Index chunk = 512;
        const auto first = static_cast<Eigen::Index>(queries.begin);
        const auto count = static_cast<Eigen::Index>(queries.size());
        const Eigen::Index n = cloud_.rows();
        const auto k = static_cast<std::size_t>(k_);
        const auto block = cloud_.middleRows(first, count);
        std::vector<double> best(static_cast<std::size_t>(count) * k,
                                 std::numeric_limits<double>::infinity());
        std::vector<Eigen::Index> best_index(best.size(), -1);
        Eigen::MatrixXd products;
        for (Eigen::Index start = 0; start < n; start += chunk) {
            const Eigen::Index width = std::min(chunk, n - start);
            products.noalias() = block * cloud_.middleRows(start, width).transpose();
            for (Eigen::Index j = 0; j < width; ++j) {
                const Eigen::Index ref = start + j;
                for (Eigen::Index i = 0; i < count; ++i) {
                    if (first + i == ref)
                        continue;
                    const double d2 = norms_(first + i) + norms_(ref) - 2.0 * products(i, j);
                    double* row = best.data() + static_cast<std::size_t>(i) * k;
                    Eigen::Index* row_index = best_index.data() + static_cast<std::size_t>(i) * k;
                    if (!(d2 < row[k - 1]))
                        continue;
                    std::size_t at = k - 1; // insertion into the sorted k best
                    while (at > 0 && row[at - 1] > d2) {
                        row[at] = row[at - 1];
                        row_index[at] = row_index[at - 1];
                        --at;
                    }
                    row[at] = d2;
                    row_index[at] = ref;
                }
            }
        }
        for (Eigen::Index i = 0; i < count; ++i) {
            double kth = 0.0;
            for (std::size_t m = 0; m < k; ++m)
                kth = std::max(kth,
                               squared_distance(cloud_, first + i,
                                                best_index[static_cast<std::size_t>(i) * k + m]));
            out[i] = 0.5 * std::log(kth);
        }
    }

    const RowMatrix& cloud_;
    int k_;
    CloudAdaptor adaptor_;
    std::unique_ptr<KdTree> tree_;
    Eigen::VectorXd norms_;
};

bool use_kd_tree(const KnnEntropyOptions& options, Eigen::Index dim) {
    switch (options.search) {
    case NeighbourSearch::kd_tree:
        return true;
    case NeighbourSearch::brute_force:
        return false;
    case NeighbourSearch::automatic:
        break;
    }
    return dim <= options.kd_tree_max_dim;
}

// The cloud minus its mean (summed over rows in id order): translation does not change the
// estimate, and centring keeps |q|^2 + |r|^2 - 2 q.r accurate for clouds far from 0.
RowMatrix centred(const RowMatrix& cloud) {
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(cloud.cols());
    for (Eigen::Index i = 0; i < cloud.rows(); ++i)
        mean += cloud.row(i);
    mean /= static_cast<double>(cloud.rows());
    return cloud.rowwise() - mean;
}

void check_sizes(std::uint64_t n, Eigen::Index dim, int k) {
    core::require(dim >= 1, "knn_entropy: points need at least one coordinate");
    core::require(k >= 1 && static_cast<std::uint64_t>(k) < n,
                  "knn_entropy: need 1 <= k < number of points");
}

// Log distances of the queries in `blocks` (one block at a time), in id order.
std::vector<double> block_log_distances(const NeighbourFinder& finder,
                                        const par::BlockPartition& partition, par::IdRange blocks,
                                        par::IdRange items) {
    std::vector<double> logs(items.size());
    for (std::uint64_t b = blocks.begin; b < blocks.end; ++b) {
        const par::IdRange ids = partition.items_in_block(b);
        finder.log_distances(ids, logs.data() + (ids.begin - items.begin));
    }
    return logs;
}

} // namespace

double knn_entropy_offset(std::uint64_t n, int k, Eigen::Index dim) {
    const double half_dim = 0.5 * static_cast<double>(dim);
    const double log_unit_ball = half_dim * std::log(std::numbers::pi) - std::lgamma(half_dim + 1);
    return digamma(static_cast<double>(n)) - digamma(static_cast<double>(k)) + log_unit_ball;
}

double knn_entropy(const RowMatrix& cloud, const KnnEntropyOptions& options,
                   std::uint64_t query_block) {
    const auto n = static_cast<std::uint64_t>(cloud.rows());
    check_sizes(n, cloud.cols(), options.k);
    const RowMatrix points = centred(cloud);
    const NeighbourFinder finder(points, options.k, use_kd_tree(options, cloud.cols()));
    const par::BlockPartition partition(n, query_block, 1);
    const std::vector<double> logs =
        block_log_distances(finder, partition, partition.blocks_of(0), partition.items_of(0));
    // The association of par::deterministic_sum: within each block in id order, then blocks.
    double total = 0.0;
    for (std::uint64_t b = 0; b < partition.n_blocks(); ++b) {
        const par::IdRange ids = partition.items_in_block(b);
        double partial = 0.0;
        for (std::uint64_t id = ids.begin; id < ids.end; ++id)
            partial += logs[id];
        total += partial;
    }
    return knn_entropy_offset(n, options.k, cloud.cols()) +
           static_cast<double>(cloud.cols()) * total / static_cast<double>(n);
}

double knn_entropy(const boost::mpi::communicator& comm, const par::BlockPartition& partition,
                   const RowMatrix& local_rows, const KnnEntropyOptions& options) {
    const int rank = comm.rank();
    const par::IdRange items = partition.items_of(rank);
    const Eigen::Index dim = local_rows.cols();
    core::require(static_cast<std::uint64_t>(local_rows.rows()) == items.size(),
                  "knn_entropy: local_rows must hold this rank's items of the partition");
    check_sizes(partition.n_items(), dim, options.k);
    const std::vector<double> all = par::all_gather_rows(
        comm, partition,
        std::span<const double>(local_rows.data(), static_cast<std::size_t>(local_rows.size())),
        static_cast<std::size_t>(dim));
    const RowMatrix points = centred(Eigen::Map<const RowMatrix>(
        all.data(), static_cast<Eigen::Index>(partition.n_items()), dim));
    const NeighbourFinder finder(points, options.k, use_kd_tree(options, dim));
    const std::vector<double> logs =
        block_log_distances(finder, partition, partition.blocks_of(rank), items);
    const double total = par::deterministic_sum(comm, partition, logs);
    return knn_entropy_offset(partition.n_items(), options.k, dim) +
           static_cast<double>(dim) * total / static_cast<double>(partition.n_items());
}

} // namespace moesim::model
