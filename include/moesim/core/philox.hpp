#pragma once
// The only random number generator in moesim: Random123's counter-based Philox4x32-10.
// A stream is keyed by (seed, purpose); a draw is addressed by (global item id, step, draw
// index), so a particle's or sample's randomness never depends on which rank holds it, and
// no generator state needs to be saved in checkpoints (it is implied by the step).
// Users: data generators, initialisation, Langevin noise, bootstrap resampling.

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>
#include <Random123/uniform.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace moesim::core {

/// FNV-1a hash of a purpose name ("mfld.noise"): streams are named, not numbered, so two
/// experiments cannot collide by reusing a small integer.
constexpr std::uint32_t purpose_id(std::string_view name) noexcept {
    std::uint32_t hash = 2166136261u;
    for (char c : name) {
        hash ^= static_cast<std::uint8_t>(c);
        hash *= 16777619u;
    }
    return hash;
}

/// A stream of random numbers for one (seed, purpose). Cheap to copy; const and thread-safe:
/// every call is a pure function of its arguments. Local.
class Philox {
public:
    using Engine = r123::Philox4x32;

    /// The 64-bit key is derived from the 64-bit seed and the purpose by one Philox round
    /// keyed by the seed, so every (seed, purpose) pair gets an unrelated key.
    Philox(std::uint64_t seed, std::string_view purpose) noexcept
        : Philox(seed, purpose_id(purpose)) {}
    Philox(std::uint64_t seed, std::uint32_t purpose) noexcept {
        const Engine::key_type seed_key = {
            {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
        const Engine::ctr_type derive = {{purpose, 0x6d6f6573u /* "moes" */, 0u, 0u}};
        const auto derived = Engine()(derive, seed_key);
        key_ = {{derived[0], derived[1]}};
    }

    /// The derived key: for code that runs the engine on many counters at once
    /// (core::fill_normal_rows).
    const Engine::key_type& key() const noexcept { return key_; }

    /// 128 random bits for counter (item, step, draw).
    std::array<std::uint32_t, 4> bits(std::uint64_t item, std::uint32_t step,
                                      std::uint32_t draw) const noexcept {
        const Engine::ctr_type counter = {
            {static_cast<std::uint32_t>(item), static_cast<std::uint32_t>(item >> 32), step, draw}};
        const auto out = Engine()(counter, key_);
        return {out[0], out[1], out[2], out[3]};
    }

    /// Two independent standard normals (Box-Muller on two 64-bit words).
    std::array<double, 2> normal_pair(std::uint64_t item, std::uint32_t step,
                                      std::uint32_t draw) const noexcept {
        const auto b = bits(item, step, draw);
        const auto z = r123::boxmuller(join(b[0], b[1]), join(b[2], b[3]));
        return {z.x, z.y};
    }

    /// Two independent uniforms on the open interval (0, 1).
    std::array<double, 2> uniform_pair(std::uint64_t item, std::uint32_t step,
                                       std::uint32_t draw) const noexcept {
        const auto b = bits(item, step, draw);
        return {r123::u01fixedpt<double>(join(b[0], b[1])),
                r123::u01fixedpt<double>(join(b[2], b[3]))};
    }

    /// Fills `out` with standard normals: out[2k] and out[2k+1] come from draw first_draw+k.
    void fill_normal(std::uint64_t item, std::uint32_t step, std::span<double> out,
                     std::uint32_t first_draw = 0) const noexcept {
        fill(out, first_draw, [&](std::uint32_t draw) { return normal_pair(item, step, draw); });
    }

    /// Fills `out` with uniforms on (0, 1), laid out as fill_normal.
    void fill_uniform(std::uint64_t item, std::uint32_t step, std::span<double> out,
                      std::uint32_t first_draw = 0) const noexcept {
        fill(out, first_draw, [&](std::uint32_t draw) { return uniform_pair(item, step, draw); });
    }

private:
    static std::uint64_t join(std::uint32_t lo, std::uint32_t hi) noexcept {
        return static_cast<std::uint64_t>(lo) | (static_cast<std::uint64_t>(hi) << 32);
    }
    template <class PairOf>
    static void fill(std::span<double> out, std::uint32_t first_draw, PairOf pair_of) noexcept {
        std::size_t i = 0;
        for (std::uint32_t draw = first_draw; i < out.size(); ++draw) {
            const auto pair = pair_of(draw);
            out[i++] = pair[0];
            if (i < out.size())
                out[i++] = pair[1];
        }
    }

    Engine::key_type key_;
};

} // namespace moesim::core
