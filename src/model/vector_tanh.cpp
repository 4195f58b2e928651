#include "moesim/model/vector_tanh.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::model {

// Works in chunks held on the stack: heap temporaries of a block's size (128 KiB at B = 256)
// sit at glibc's mmap threshold and cost a page-fault storm per block. The blend is a plain
// loop because Eigen 3.4's select() and sign() have no packet path and would drag exp() back
// to scalar. Which elements Eigen sends down the packet or the scalar-tail exp depends only
// on their index in the matrix and its shape.
void tanh_in_place(Eigen::MatrixXd& values) {
    constexpr Eigen::Index chunk = 256;
    using Chunk = Eigen::Array<double, Eigen::Dynamic, 1, 0, chunk, 1>;
    Chunk z2, large, small;
    for (Eigen::Index start = 0; start < values.size(); start += chunk) {
        const Eigen::Index count = std::min(chunk, values.size() - start);
        Eigen::Map<Eigen::ArrayXd> z(values.data() + start, count);
        z2 = z.square();
        large = 1.0 - 2.0 / ((2.0 * z.abs()).exp() + 1.0);
        small = z + z * z2 *
                        (((-9.64399179425052238628e-1 * z2 - 9.92877231001918586564e1) * z2 -
                          1.61468768441708447952e3) /
                         (((z2 + 1.12811678491632931402e2) * z2 + 2.23548839060100448583e3) * z2 +
                          4.84406305325125486048e3));
        for (Eigen::Index i = 0; i < count; ++i)
            z(i) = !(std::abs(z(i)) >= 0.625) ? small(i) : std::copysign(large(i), z(i));
    }
}

} // namespace moesim::model
