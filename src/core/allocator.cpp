#include "moesim/core/allocator.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace moesim::core {

void keep_freed_memory() {
#if defined(__GLIBC__)
    // 1 GiB: only blocks larger than that still go to mmap; the heap top is trimmed back to
    // the kernel only when more than 1 GiB is free there.
    constexpr int threshold = 1 << 30;
    mallopt(M_MMAP_THRESHOLD, threshold);
    mallopt(M_TRIM_THRESHOLD, threshold);
#endif
}

} // namespace moesim::core
