#include "util/heap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace meshlink::util {

void prepare_heap_for_large_documents(std::size_t bytes) {
    constexpr std::uintptr_t k_huge_page = 2U << 20U;
    constexpr std::size_t k_block = 512U << 10U;
    // Grow by `bytes` at once, keep what is freed instead of returning it page by page, and serve blocks of
    // k_block from the heap rather than from mmap.
    if (mallopt(M_TOP_PAD, static_cast<int>(bytes)) != 1 ||
        mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes)) != 1 ||
        mallopt(M_MMAP_THRESHOLD, static_cast<int>(2 * k_block)) != 1) {
        return;
    }
    // A block larger than what is left at the top (a fresh heap starts with ~132 KiB) makes the allocator
    // extend the heap now, by `bytes` more.
    void* block = std::malloc(k_block);
    if (block == nullptr) {
        return;
    }
    const auto begin = (reinterpret_cast<std::uintptr_t>(block) + k_huge_page - 1) & ~(k_huge_page - 1);
    const auto end = reinterpret_cast<std::uintptr_t>(::sbrk(0)) & ~(k_huge_page - 1);
    if (end > begin) {
        (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
    }
    std::free(block);
}

} // namespace meshlink::util
