#include "fused_tanh.hpp"

#include <bit>
#include <cmath>
#include <cstdint>

namespace moesim::model::impl {

namespace {

constexpr double inverse_factorial(int n) {
    double f = 1.0;
    for (int k = 2; k <= n; ++k)
        f *= k; // exact up to 18!
    return 1.0 / f;
}

// exp(t) - 1 for t in [0, 40] (NaN in, garbage out: the caller masks it), without
// cancellation at small t: t = k ln 2 + r with |r| <= ln(2)/2 (Cody-Waite, fdlibm's split of
// ln 2, so k * ln2_hi is exact), exp(t) - 1 = 2^k (exp(r) - 1) + (2^k - 1), and exp(r) - 1 by
// its Taylor series to r^13 (truncation < 2e-17 relative); 2^k is built from k's bits.
inline double expm1_bounded(double t) noexcept {
    constexpr double round_magic = 0x1.8p52; // adding it rounds to an integer held in the bits
    constexpr double ln2_hi = 6.93147180369123816490e-01;
    constexpr double ln2_lo = 1.90821492927058770002e-10;
    const double shifted = t * 1.44269504088896340736 + round_magic;
    const double k = shifted - round_magic;
    const double r = (t - k * ln2_hi) - k * ln2_lo;
    // exp(r) - 1 = r P(r), P(r) = sum_n r^n / (n+1)!, n <= 12, by Estrin's scheme: a short
    // dependency chain (4 levels, not Horner's 12), written out so the caller's loop vectorises.
    const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const auto c = [](int n) { return inverse_factorial(n + 1); };
    const double a0 = c(0) + c(1) * r, a1 = c(2) + c(3) * r, a2 = c(4) + c(5) * r,
                 a3 = c(6) + c(7) * r, a4 = c(8) + c(9) * r, a5 = c(10) + c(11) * r;
    const double b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2;
    const double p = (b0 + b1 * r4) + (b2 + c(12) * r4) * r8;
    const std::uint64_t k_bits =
        std::bit_cast<std::uint64_t>(shifted) - std::bit_cast<std::uint64_t>(round_magic);
    const double scale = std::bit_cast<double>((k_bits + 1023) << 52); // 2^k
    return scale * (p * r) + (scale - 1.0);
}

// tanh |z| = m / (m + 2) with m = exp(2|z|) - 1, 2|z| capped at 40 (tanh is 1 to double
// precision beyond 19.1); the sign put back after. No branches: the loop vectorises.
inline double tanh_lane(double z) noexcept {
    const double x = std::abs(z);
    const double twice = 2.0 * x;
    const double m = expm1_bounded(twice > 40.0 ? 40.0 : twice);
    const double a = std::copysign(m / (m + 2.0), z);
    return x == x ? a : z; // NaN in, NaN out
}

} // namespace

double tanh_value(double z) noexcept {
    return tanh_lane(z);
}

void tanh_accumulate(const double* __restrict z, std::size_t n, double* __restrict sums,
                     double* __restrict derivative) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        const double a = tanh_lane(z[i]);
        sums[i] += a;
        derivative[i] = 1.0 - a * a;
    }
}

} // namespace moesim::model::impl
