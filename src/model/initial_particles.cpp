#include "moesim/model/initial_particles.hpp"

#include <span>

namespace moesim::model {

void fill_initial_particles(const core::Philox& init_stream, std::uint64_t first_id, double sd,
                            RowMatrix& theta) {
    for (Eigen::Index i = 0; i < theta.rows(); ++i) {
        init_stream.fill_normal(
            first_id + static_cast<std::uint64_t>(i), 0,
            std::span<double>(theta.row(i).data(), static_cast<std::size_t>(theta.cols())));
        theta.row(i) *= sd;
    }
}

} // namespace moesim::model
