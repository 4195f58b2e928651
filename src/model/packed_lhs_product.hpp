#pragma once
// C = A * B for many right-hand sides B of one shape against one A, with A packed once.
// Eigen's `C.noalias() = A * B` packs both operands into its kernel's layout on every call;
// the mfld step multiplies the same B x d batch by one partition block of particles after
// another, so Eigen repacked the whole batch per block (a fifth of the step at d = 256).
// This runs Eigen's own pieces (its blocking sizes, gemm_pack_lhs/rhs and gebp_kernel) in the
// order of Eigen's sequential GEMM, so every product has exactly the bits Eigen's product of
// that shape would have (tests/unit/model_packed_lhs_product.cpp checks it bitwise), only
// without packing A again. Products too small for Eigen's GEMM path (a vector, or
// rows + cols + depth < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) go through Eigen's product
// unchanged, as Eigen would route them. Users: MeanFieldNetwork, bench_mfld_step.

#include <Eigen/Core>

#include <vector>

namespace moesim::model::impl {

/// Column-major C (m x n) = A (m x k) * B (k x n), A fixed across calls. A is stored with
/// storage order `AOrder` and B with `BOrder` (Eigen::ColMajor or Eigen::RowMajor), as
/// Eigen's general_matrix_matrix_product takes them.
template <int AOrder, int BOrder> class PackedLhsProduct {
public:
    /// Packs A (m x k, `lda` between consecutive columns if column-major, rows if row-major)
    /// for products with n columns. A must outlive the products only if one falls back to
    /// Eigen (see above): it is kept as a pointer for that case.
    void pack(const double* a, Eigen::Index lda, Eigen::Index m, Eigen::Index k, Eigen::Index n);

    /// c (column-major, `ldc` between columns) = A * B for B (k x n, `ldb` between columns if
    /// column-major, rows if row-major), bitwise as Eigen's product of these shapes.
    void multiply(const double* b, Eigen::Index ldb, double* c, Eigen::Index ldc);

private:
    const double* a_ = nullptr;
    Eigen::Index lda_ = 0, m_ = 0, k_ = 0, n_ = 0, mc_ = 0, kc_ = 0, nc_ = 0;
    bool gemm_ = false;
    // Packed A, one (mc x kc) panel per (row block, depth block) in Eigen's loop order, each
    // starting on a packet boundary (the kernel loads it aligned); packed B likewise.
    std::vector<double, Eigen::aligned_allocator<double>> packed_a_, packed_b_;
    std::vector<Eigen::Index> a_offset_, b_offset_;
};

extern template class PackedLhsProduct<Eigen::RowMajor, Eigen::ColMajor>;
extern template class PackedLhsProduct<Eigen::ColMajor, Eigen::ColMajor>;

} // namespace moesim::model::impl
