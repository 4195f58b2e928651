#include "moesim/par/block_partition.hpp"

#include "moesim/core/error.hpp"

namespace moesim::par {

BlockPartition::BlockPartition(std::uint64_t n_items, std::uint64_t block_size, int nranks)
    : n_items_(n_items), block_size_(block_size), n_blocks_(0), nranks_(nranks), base_(0),
      extra_(0) {
    core::require(block_size > 0, "BlockPartition: block_size must be positive");
    core::require(nranks > 0, "BlockPartition: nranks must be positive");
    n_blocks_ = (n_items + block_size - 1) / block_size;
    base_ = n_blocks_ / static_cast<std::uint64_t>(nranks);
    extra_ = n_blocks_ % static_cast<std::uint64_t>(nranks);
}

IdRange BlockPartition::blocks_of(int rank) const {
    core::require(rank >= 0 && rank < nranks_, "BlockPartition::blocks_of: rank out of range");
    const auto r = static_cast<std::uint64_t>(rank);
    const std::uint64_t begin = r * base_ + (r < extra_ ? r : extra_);
    return {begin, begin + base_ + (r < extra_ ? 1 : 0)};
}

IdRange BlockPartition::items_of(int rank) const {
    const IdRange blocks = blocks_of(rank);
    const std::uint64_t begin = std::min(blocks.begin * block_size_, n_items_);
    return {begin, std::min(blocks.end * block_size_, n_items_)};
}

IdRange BlockPartition::items_in_block(std::uint64_t block) const {
    core::require(block < n_blocks_, "BlockPartition::items_in_block: block out of range");
    return {block * block_size_, std::min((block + 1) * block_size_, n_items_)};
}

int BlockPartition::owner_of_block(std::uint64_t block) const {
    core::require(block < n_blocks_, "BlockPartition::owner_of_block: block out of range");
    // The first extra_ ranks own base_+1 blocks each, the rest base_.
    const std::uint64_t big = extra_ * (base_ + 1);
    if (block < big)
        return static_cast<int>(block / (base_ + 1));
    return static_cast<int>(extra_ + (block - big) / base_);
}

} // namespace moesim::par
