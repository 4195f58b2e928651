#pragma once
// How global items (particles, experts, samples, replicates) are split over ranks: ids are
// grouped into fixed-size blocks, and each rank owns a contiguous range of whole blocks.
// The block size is a config value, never derived from the rank count, so per-block work
// has the same shape (hence the same floating-point bits) at any rank count.
// Users: every sharded object; deterministic_sum; the series writer's row offsets.

#include <cstdint>

namespace moesim::par {

/// A half-open range of ids [begin, end).
struct IdRange {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    std::uint64_t size() const noexcept { return end - begin; }
    bool empty() const noexcept { return begin == end; }
    bool contains(std::uint64_t id) const noexcept { return id >= begin && id < end; }
    friend bool operator==(const IdRange&, const IdRange&) = default;
};

/// Partition of n_items ids into blocks of block_size (the last one may be short), blocks
/// dealt to nranks ranks in contiguous runs whose lengths differ by at most one (lower ranks
/// get the extra). With more ranks than blocks, the higher ranks own nothing. Local.
class BlockPartition {
public:
    /// Throws core::InternalError if block_size == 0 or nranks <= 0.
    BlockPartition(std::uint64_t n_items, std::uint64_t block_size, int nranks);

    std::uint64_t n_items() const noexcept { return n_items_; }
    std::uint64_t block_size() const noexcept { return block_size_; }
    std::uint64_t n_blocks() const noexcept { return n_blocks_; }
    int nranks() const noexcept { return nranks_; }

    /// Blocks owned by `rank`.
    IdRange blocks_of(int rank) const;
    /// Item ids owned by `rank` (contiguous, possibly empty).
    IdRange items_of(int rank) const;
    /// Item ids in `block`.
    IdRange items_in_block(std::uint64_t block) const;
    /// The block holding item `id`.
    std::uint64_t block_of_item(std::uint64_t id) const noexcept { return id / block_size_; }
    /// The rank owning `block`.
    int owner_of_block(std::uint64_t block) const;
    /// The rank owning item `id`.
    int owner_of_item(std::uint64_t id) const { return owner_of_block(block_of_item(id)); }

private:
    std::uint64_t n_items_, block_size_, n_blocks_;
    int nranks_;
    std::uint64_t base_, extra_; // each rank gets base_ blocks, the first extra_ one more
};

} // namespace moesim::par
