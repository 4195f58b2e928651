#include "packed_lhs_product.hpp"

#include <algorithm>

namespace moesim::model::impl {

namespace {

using Eigen::Index;
namespace ei = Eigen::internal;
using Traits = ei::gebp_traits<double, double>;
using ResMapper = ei::blas_data_mapper<double, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
constexpr Index packet = Traits::LhsProgress; // doubles per SIMD register

Index round_up(Index n) {
    return (n + packet - 1) / packet * packet;
}

template <int Order> using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Order>;
template <int Order>
using ConstMap = Eigen::Map<const Matrix<Order>, Eigen::Unaligned, Eigen::OuterStride<>>;

} // namespace

template <int AOrder, int BOrder>
void PackedLhsProduct<AOrder, BOrder>::pack(const double* a, Index lda, Index m, Index k, Index n) {
    a_ = a;
    lda_ = lda;
    m_ = m;
    k_ = k;
    n_ = n;
    // Eigen's routing (generic_product_impl::evalTo and scaleAndAddTo): coefficient-based
    // product for tiny shapes, matrix-vector for a single row or column, else its GEMM.
    gemm_ = !(k + m + n < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD && k > 0) && m > 1 && n > 1 && k > 0;
    if (!gemm_)
        return;
    // The blocking Eigen's product computes for this shape (gemm_blocking_space with
    // l3_blocking, one thread), and its loop's clamping of mc and nc.
    kc_ = k;
    mc_ = m;
    nc_ = n;
    ei::computeProductBlockingSizes<double, double, 1>(kc_, mc_, nc_, Index{1});
    mc_ = std::min(m, mc_);
    nc_ = std::min(n, nc_);

    using AMapper = ei::const_blas_data_mapper<double, Index, AOrder>;
    ei::gemm_pack_lhs<double, Index, AMapper, Traits::mr, Traits::LhsProgress,
                      typename Traits::LhsPacket4Packing, AOrder>
        pack_lhs;
    const AMapper lhs(a, lda);
    a_offset_.clear();
    Index size = 0;
    for (Index i2 = 0; i2 < m; i2 += mc_)
        for (Index k2 = 0; k2 < k; k2 += kc_) {
            a_offset_.push_back(size);
            size += round_up((std::min(i2 + mc_, m) - i2) * (std::min(k2 + kc_, k) - k2));
        }
    packed_a_.resize(static_cast<std::size_t>(size));
    std::size_t block = 0;
    for (Index i2 = 0; i2 < m; i2 += mc_)
        for (Index k2 = 0; k2 < k; k2 += kc_)
            pack_lhs(packed_a_.data() + a_offset_[block++], lhs.getSubMapper(i2, k2),
                     std::min(k2 + kc_, k) - k2, std::min(i2 + mc_, m) - i2);
}

template <int AOrder, int BOrder>
void PackedLhsProduct<AOrder, BOrder>::multiply(const double* b, Index ldb, double* c, Index ldc) {
    Eigen::Map<Matrix<Eigen::ColMajor>, Eigen::Unaligned, Eigen::OuterStride<>> result(
        c, m_, n_, Eigen::OuterStride<>(ldc));
    if (!gemm_) {
        result.noalias() = ConstMap<AOrder>(a_, m_, k_, Eigen::OuterStride<>(lda_)) *
                           ConstMap<BOrder>(b, k_, n_, Eigen::OuterStride<>(ldb));
        return;
    }
    using BMapper = ei::const_blas_data_mapper<double, Index, BOrder>;
    ei::gemm_pack_rhs<double, Index, BMapper, Traits::nr, BOrder> pack_rhs;
    ei::gebp_kernel<double, double, Index, ResMapper, Traits::mr, Traits::nr, false, false> gebp;
    const BMapper rhs(b, ldb);
    const ResMapper res(c, ldc);

    // B packed once per (depth block, column block): Eigen packs it once or per row block, the
    // same values either way.
    b_offset_.clear();
    Index size = 0;
    for (Index k2 = 0; k2 < k_; k2 += kc_)
        for (Index j2 = 0; j2 < n_; j2 += nc_) {
            b_offset_.push_back(size);
            size += round_up((std::min(k2 + kc_, k_) - k2) * (std::min(j2 + nc_, n_) - j2));
        }
    packed_b_.resize(static_cast<std::size_t>(size));
    std::size_t block = 0;
    for (Index k2 = 0; k2 < k_; k2 += kc_)
        for (Index j2 = 0; j2 < n_; j2 += nc_)
            pack_rhs(packed_b_.data() + b_offset_[block++], rhs.getSubMapper(k2, j2),
                     std::min(k2 + kc_, k_) - k2, std::min(j2 + nc_, n_) - j2);

    // C = 0, then C += A * B in Eigen's sequential order: row blocks, depth blocks, column
    // blocks, so each element sums its depth blocks in the same order with the same kernel.
    result.setZero();
    const Index depth_blocks = (k_ + kc_ - 1) / kc_, column_blocks = (n_ + nc_ - 1) / nc_;
    Index row_block = 0;
    for (Index i2 = 0; i2 < m_; i2 += mc_, ++row_block) {
        const Index mc = std::min(i2 + mc_, m_) - i2;
        for (Index kb = 0, k2 = 0; k2 < k_; k2 += kc_, ++kb) {
            const Index kc = std::min(k2 + kc_, k_) - k2;
            const double* a =
                packed_a_.data() + a_offset_[std::size_t(row_block * depth_blocks + kb)];
            for (Index jb = 0, j2 = 0; j2 < n_; j2 += nc_, ++jb) {
                const Index nc = std::min(j2 + nc_, n_) - j2;
                gebp(res.getSubMapper(i2, j2), a,
                     packed_b_.data() + b_offset_[std::size_t(kb * column_blocks + jb)], mc, kc, nc,
                     1.0);
            }
        }
    }
}

template class PackedLhsProduct<Eigen::RowMajor, Eigen::ColMajor>;
template class PackedLhsProduct<Eigen::ColMajor, Eigen::ColMajor>;

} // namespace moesim::model::impl
