#include "moesim/core/normal_rows.hpp"

#include "moesim/core/error.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace moesim::core {

namespace {

// Counters per chunk: a multiple of every vector width, so all lanes run the same code. The
// loops below are plain arithmetic on arrays, which GCC vectorises (-O3, -ffp-contract=off
// keeps each operation IEEE-rounded): a lane's result never depends on whether it went down
// a vector or a scalar path, nor on its neighbours.
constexpr std::size_t lanes = 128;

// Random123's Philox4x32-10 (multipliers, Weyl key increments, round structure of
// Random123/philox.h), one counter per lane, rounds outermost so the lanes of a round are
// independent work. Checked against r123::Philox4x32 through the values in
// tests/unit/core_normal_rows.cpp. Integer arithmetic: the AVX2 path and the portable one give
// the same bits.
using Lanes32 = std::array<std::uint32_t, lanes>;
constexpr std::uint32_t philox_m0 = 0xD2511F53u, philox_m1 = 0xCD9E8D57u;
constexpr std::uint32_t philox_w0 = 0x9E3779B9u, philox_w1 = 0xBB67AE85u;

#if defined(__AVX2__)
// GCC vectorises the portable loop below with a shuffle per 32-bit product; by hand, the even
// and odd lanes' 32 x 32 -> 64-bit products (vpmuludq) are blended back: ~3x faster.
void philox_lanes(Lanes32& c0, Lanes32& c1, Lanes32& c2, Lanes32& c3, std::uint32_t k0,
                  std::uint32_t k1) {
    const __m256i m0 = _mm256_set1_epi64x(philox_m0), m1 = _mm256_set1_epi64x(philox_m1);
    const auto load = [](const Lanes32& c, std::size_t i) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c.data() + i));
    };
    const auto store = [](Lanes32& c, std::size_t i, __m256i v) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c.data() + i), v);
    };
    // (low, high) 32-bit halves of the eight products m * x.
    const auto mulhilo = [](__m256i x, __m256i m, __m256i& low, __m256i& high) {
        const __m256i even = _mm256_mul_epu32(x, m);
        const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
        low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
        high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    };
    for (int round = 0; round < 10; ++round) {
        const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0));
        const __m256i key1 = _mm256_set1_epi32(static_cast<int>(k1));
        for (std::size_t i = 0; i < lanes; i += 8) {
            __m256i lo0, hi0, lo1, hi1;
            mulhilo(load(c0, i), m0, lo0, hi0);
            mulhilo(load(c2, i), m1, lo1, hi1);
            store(c0, i, _mm256_xor_si256(_mm256_xor_si256(hi1, load(c1, i)), key0));
            store(c2, i, _mm256_xor_si256(_mm256_xor_si256(hi0, load(c3, i)), key1));
            store(c1, i, lo1);
            store(c3, i, lo0);
        }
        k0 += philox_w0;
        k1 += philox_w1;
    }
}
#else
void philox_lanes(Lanes32& c0, Lanes32& c1, Lanes32& c2, Lanes32& c3, std::uint32_t k0,
                  std::uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
        for (std::size_t i = 0; i < lanes; ++i) {
            const std::uint64_t p0 = std::uint64_t{philox_m0} * c0[i];
            const std::uint64_t p1 = std::uint64_t{philox_m1} * c2[i];
            c0[i] = static_cast<std::uint32_t>(p1 >> 32) ^ c1[i] ^ k0;
            c1[i] = static_cast<std::uint32_t>(p1);
            c2[i] = static_cast<std::uint32_t>(p0 >> 32) ^ c3[i] ^ k1;
            c3[i] = static_cast<std::uint32_t>(p0);
        }
        k0 += philox_w0;
        k1 += philox_w1;
    }
}
#endif

constexpr std::uint64_t one_bits = 0x3FF0000000000000ull;   // 1.0
constexpr std::uint64_t magic_bits = 0x4330000000000000ull; // 2^52: bits | n = 2^52 + n

// x in [1, 2) from 52 random bits: 1 + bits / 2^52.
inline double one_plus(std::uint64_t bits52) {
    return std::bit_cast<double>(one_bits | bits52);
}

// A non-negative integer n < 2^52 as a double, exactly, in integer and double arithmetic only
// (AVX2 has no 64-bit integer to double conversion).
inline double exact_double(std::uint64_t n) {
    return std::bit_cast<double>(magic_bits | n) - 0x1p52;
}

constexpr double inverse_factorial(int n) {
    double f = 1.0;
    for (int k = 2; k <= n; ++k)
        f *= k; // exact up to 18!
    return 1.0 / f;
}

// ln x for normal x > 0: x = 2^e m, m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s),
// s = (m - 1) / (m + 1), |s| <= 0.172, by its Taylor series to s^23 (truncation < 1e-19).
// Polynomials here use Estrin's scheme (short dependency chains, unlike Horner's), written
// out so the caller's loop vectorises.
inline double log_positive(double x) {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    double m = one_plus(bits & 0x000FFFFFFFFFFFFFull);
    const bool high = m > 1.4142135623730951;
    m = high ? 0.5 * m : m;
    const double e = (exact_double(bits >> 52) - 1023.0) + (high ? 1.0 : 0.0);
    const double f = m - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s, z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
    const auto c = [](int k) { return 1.0 / (2 * k + 1); }; // atanh(s) / s = sum_k c(k) z^k
    const double a0 = c(0) + c(1) * z, a1 = c(2) + c(3) * z, a2 = c(4) + c(5) * z,
                 a3 = c(6) + c(7) * z, a4 = c(8) + c(9) * z, a5 = c(10) + c(11) * z;
    const double b0 = a0 + a1 * z2, b1 = a2 + a3 * z2, b2 = a4 + a5 * z2;
    const double p = (b0 + b1 * z4) + b2 * z8;
    return e * 0.69314718055994530942 + 2.0 * s * p;
}

// sin and cos of theta, |theta| <= pi/4, by Taylor series to theta^17 and theta^18
// (truncation < 1e-19), in w = -theta^2.
inline void sincos_quarter(double theta, double& s, double& c) {
    const double w = -(theta * theta), w2 = w * w, w4 = w2 * w2, w8 = w4 * w4;
    const auto sc = [](int k) { return inverse_factorial(2 * k + 1); }; // sin(t) / t in w
    const auto cc = [](int k) { return inverse_factorial(2 * k); };     // cos(t) in w
    const double sa0 = sc(0) + sc(1) * w, sa1 = sc(2) + sc(3) * w, sa2 = sc(4) + sc(5) * w,
                 sa3 = sc(6) + sc(7) * w;
    const double ca0 = cc(0) + cc(1) * w, ca1 = cc(2) + cc(3) * w, ca2 = cc(4) + cc(5) * w,
                 ca3 = cc(6) + cc(7) * w, ca4 = cc(8) + cc(9) * w;
    const double sb0 = sa0 + sa1 * w2, sb1 = sa2 + sa3 * w2;
    const double cb0 = ca0 + ca1 * w2, cb1 = ca2 + ca3 * w2;
    s = theta * ((sb0 + sb1 * w4) + sc(8) * w8);
    c = (cb0 + cb1 * w4) + ca4 * w8;
}

// Box-Muller on one counter's 128 bits (see fill_normal_rows).
inline void box_muller(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2, std::uint32_t w3,
                       double& z0, double& z1) {
    // u = (a + 1/2) / 2^52 in (0, 1), exactly: (1 + a/2^52) - 1 is exact, so is + 2^-53.
    const std::uint64_t a = ((std::uint64_t{w1} << 32) | w0) >> 12;
    const double u = (one_plus(a) - 1.0) + 0x1p-53;
    const double radius = std::sqrt(-2.0 * log_positive(u));
    // 4 v = (b + 1/2) / 2^50 = q + r with q = round(4 v) in 0..4 and |r| <= 1/2, in integers:
    // the angle 2 pi v is q quarter turns plus (pi/2) r.
    const std::uint64_t b = ((std::uint64_t{w3} << 32) | w2) >> 12;
    const std::uint64_t q = (b + (std::uint64_t{1} << 49)) >> 50;
    const std::uint64_t shifted =
        b + (std::uint64_t{1} << 49) - (q << 50); // j + 2^49, j = b - q 2^50
    const double r = ((exact_double(shifted) - 0x1p49) + 0.5) * 0x1p-50;
    double s = 0, c = 0;
    sincos_quarter(r * 1.5707963267948966, s, c);
    const std::uint64_t quarter = q & 3;
    const double cos_v = (quarter & 1) ? s : c, sin_v = (quarter & 1) ? c : s;
    // Quarter 1: (-sin, cos); 2: (-cos, -sin); 3: (sin, -cos).
    z0 = radius * ((quarter == 1 || quarter == 2) ? -cos_v : cos_v);
    z1 = radius * ((quarter >= 2) ? -sin_v : sin_v);
}

} // namespace

void fill_normal_rows(const Philox& rng, std::uint64_t first_item, std::uint32_t step,
                      std::size_t rows, std::size_t cols, std::span<double> out) {
    require(out.size() == rows * cols, "fill_normal_rows: out.size() != rows * cols");
    const std::size_t pairs = (cols + 1) / 2;
    const auto& key = rng.key();
    Lanes32 c0{}, c1{}, c2{}, c3{};
    std::array<double, 2 * lanes> z{}; // lane i's two normals at 2i, 2i + 1
    // A chunk covers the counters from (row, draw) on in runs of consecutive draws of one row;
    // lanes past the last run of the last chunk compute discarded values.
    std::size_t row = 0, draw = 0;
    while (row < rows) {
        std::size_t used = 0;
        for (std::size_t r = row, k = draw; used < lanes && r < rows;) {
            const std::size_t run = std::min(pairs - k, lanes - used);
            const std::uint64_t item = first_item + r;
            for (std::size_t j = 0; j < run; ++j) {
                c0[used + j] = static_cast<std::uint32_t>(item);
                c1[used + j] = static_cast<std::uint32_t>(item >> 32);
                c2[used + j] = step;
                c3[used + j] = static_cast<std::uint32_t>(k + j);
            }
            used += run;
            k += run;
            if (k == pairs) {
                k = 0;
                ++r;
            }
        }
        philox_lanes(c0, c1, c2, c3, key[0], key[1]);
        for (std::size_t i = 0; i < lanes; ++i)
            box_muller(c0[i], c1[i], c2[i], c3[i], z[2 * i], z[2 * i + 1]);
        for (std::size_t done = 0; done < used;) {
            const std::size_t run = std::min(pairs - draw, used - done);
            const std::size_t first_col = 2 * draw, end_col = std::min(cols, 2 * (draw + run));
            std::copy_n(z.data() + 2 * done, end_col - first_col,
                        out.data() + row * cols + first_col);
            done += run;
            draw += run;
            if (draw == pairs) {
                draw = 0;
                ++row;
            }
        }
    }
}

} // namespace moesim::core
