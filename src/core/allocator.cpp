#include "moesim/core/allocator.hpp"

#if __has_include(<malloc.h>)
#include <malloc.h> // defines __GLIBC__ on glibc systems
#endif

namespace moesim::core {

void keep_freed_memory() {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    // Blocks up to 32 MiB (glibc's largest allowed mmap threshold on 64-bit) come from the
    // heap; its top is given back to the kernel only when more than 1 GiB is free there.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

} // namespace moesim::core
