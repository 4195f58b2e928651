#include "moesim/core/allocator.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

TEST_SUITE("core::keep_freed_memory") {
    TEST_CASE("a freed multi-megabyte block is recycled from the heap, not mapped anew") {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
        moesim::core::keep_freed_memory();
        const std::size_t bytes = 24 << 20; // far above glibc's default 128 KiB mmap threshold
        const std::size_t mapped_before = mallinfo2().hblkhd;
        void* block = std::malloc(bytes);
        REQUIRE(block != nullptr);
        const std::size_t mapped_during = mallinfo2().hblkhd;
        std::free(block);
        void* again = std::malloc(bytes);
        CHECK(again == block); // the same heap chunk serves the next request
        std::free(again);
        CHECK(mapped_during == mapped_before); // the block did not come from mmap
#else
        MESSAGE("not glibc >= 2.33: nothing to check");
#endif
    }
}
