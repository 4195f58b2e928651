#include "moesim/model/orthonormal_rows.hpp"

#include <span>

namespace moesim::model {

RowMatrix orthonormal_gaussian_rows(const core::Philox& stream, Eigen::Index rows,
                                    Eigen::Index dim) {
    RowMatrix basis(rows, dim);
    for (Eigen::Index i = 0; i < rows; ++i) {
        stream.fill_normal(static_cast<std::uint64_t>(i), 0,
                           std::span<double>(basis.row(i).data(), static_cast<std::size_t>(dim)));
        for (int pass = 0; pass < 2; ++pass)
            for (Eigen::Index j = 0; j < i; ++j)
                basis.row(i) -= basis.row(i).dot(basis.row(j)) * basis.row(j);
        basis.row(i) /= basis.row(i).norm();
    }
    return basis;
}

} // namespace moesim::model
