#include "model/packed_lhs_product.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <random>

using moesim::model::impl::PackedLhsProduct;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

RowMatrix random_rows(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& gen) {
    std::normal_distribution<double> normal;
    RowMatrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = normal(gen);
    return m;
}

bool same_bits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

struct Shape {
    Eigen::Index batch, dim, block;
};

// Shapes of the mfld step (B x d against blocks of 64 particles, and narrower last blocks),
// Eigen's routing corners (one column, one row, rows + cols + depth < 20) and sizes that are
// not multiples of its 24 x 4 kernel, or that need several depth or row blocks.
const Shape shapes[] = {{256, 16, 64},  {512, 64, 64},  {1024, 256, 64}, {1024, 256, 17},
                        {1024, 256, 1}, {1, 16, 64},    {5, 3, 4},       {7, 7, 5},
                        {97, 33, 13},   {300, 700, 29}, {2000, 9, 64},   {64, 1500, 3}};

} // namespace

TEST_SUITE("model::impl::PackedLhsProduct") {
    TEST_CASE("the forward product has the bits of Eigen's inputs * theta_block^T") {
        std::mt19937_64 gen(3);
        for (const Shape& s : shapes) {
            CAPTURE(s.batch);
            CAPTURE(s.dim);
            CAPTURE(s.block);
            const RowMatrix inputs = random_rows(s.batch, s.dim, gen);
            const RowMatrix theta = random_rows(3 * s.block, s.dim, gen);
            PackedLhsProduct<Eigen::RowMajor, Eigen::ColMajor> product;
            product.pack(inputs.data(), s.dim, s.batch, s.dim, s.block);
            for (Eigen::Index first = 0; first < theta.rows(); first += s.block) {
                Eigen::MatrixXd want;
                want.noalias() = inputs * theta.middleRows(first, s.block).transpose();
                Eigen::MatrixXd got(s.batch, s.block);
                product.multiply(theta.data() + first * s.dim, s.dim, got.data(), s.batch);
                CHECK(same_bits(got, want));
            }
        }
    }

    TEST_CASE("the gradient product has the bits of Eigen's derivative_block^T * inputs") {
        std::mt19937_64 gen(5);
        for (const Shape& s : shapes) {
            CAPTURE(s.batch);
            CAPTURE(s.dim);
            CAPTURE(s.block);
            const RowMatrix scaled = random_rows(s.batch, s.dim, gen);
            const Eigen::MatrixXd derivative = random_rows(s.batch, 3 * s.block, gen);
            PackedLhsProduct<Eigen::ColMajor, Eigen::ColMajor> product;
            product.pack(scaled.data(), s.dim, s.dim, s.batch, s.block);
            for (Eigen::Index first = 0; first < derivative.cols(); first += s.block) {
                RowMatrix want(s.block, s.dim);
                want.noalias() = derivative.middleCols(first, s.block).transpose() * scaled;
                RowMatrix got(s.block, s.dim);
                product.multiply(derivative.data() + first * s.batch, s.batch, got.data(), s.dim);
                CHECK(std::memcmp(got.data(), want.data(),
                                  sizeof(double) * std::size_t(got.size())) == 0);
            }
        }
    }

    TEST_CASE("a repack for another width or another A gives that product") {
        std::mt19937_64 gen(7);
        const RowMatrix a = random_rows(200, 40, gen), b = random_rows(200, 40, gen);
        const RowMatrix theta = random_rows(64, 40, gen);
        PackedLhsProduct<Eigen::RowMajor, Eigen::ColMajor> product;
        for (Eigen::Index width : {64, 10, 64}) {
            for (const RowMatrix* lhs : {&a, &b}) {
                product.pack(lhs->data(), 40, 200, 40, width);
                Eigen::MatrixXd want;
                want.noalias() = *lhs * theta.topRows(width).transpose();
                Eigen::MatrixXd got(200, width);
                product.multiply(theta.data(), 40, got.data(), 200);
                CHECK(same_bits(got, want));
            }
        }
    }
}
