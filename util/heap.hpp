#pragma once
// A hint for commands that build large in-memory documents from many small allocations (a kubeconfig merge of
// thousands of contexts makes ~30,000 page faults for ~120 MiB of yaml-cpp nodes): grow the heap in big steps
// and let the kernel back it with transparent huge pages where it does so only on request
// (/sys/kernel/mm/transparent_hugepage/enabled = madvise). glibc's own glibc.malloc.hugetlb=1 tunable does
// the same, but only through the environment of a process that is already running. Best effort: nothing fails
// when the kernel or allocator ignore it.

#include <cstddef>

namespace meshlink::util {

// Reserves `bytes` of heap growth (no memory is touched) and advises huge pages on it.
void prepare_heap_for_large_documents(std::size_t bytes);

} // namespace meshlink::util
