// util/heap.hpp: the heap is grown by the reserve at once, and allocation keeps working afterwards.
#include "util/heap.hpp"

#include <boost/test/unit_test.hpp>
#include <malloc.h>

#include <cstring>
#include <memory>
#include <vector>

namespace {

// AddressSanitizer replaces glibc's allocator: mallopt and mallinfo2 are not glibc's there.
boost::test_tools::assertion_result glibc_allocator(boost::unit_test::test_unit_id) {
#if defined(__SANITIZE_ADDRESS__)
    boost::test_tools::assertion_result result(false);
    result.message() << "glibc's allocator is replaced by AddressSanitizer's";
    return result;
#else
    return true;
#endif
}

} // namespace

BOOST_AUTO_TEST_SUITE(heap)

BOOST_AUTO_TEST_CASE(the_reserve_is_taken_at_once_and_allocation_still_works,
                     *boost::unit_test::precondition(&glibc_allocator)) {
    constexpr std::size_t k_reserve = 64U << 20U;
    const std::size_t before = mallinfo2().arena;
    meshlink::util::prepare_heap_for_large_documents(k_reserve);
    const std::size_t after = mallinfo2().arena;
    // The main arena's heap grew to hold the reserve (less what was already free at its top), untouched.
    BOOST_TEST(after > before);
    BOOST_TEST(after >= k_reserve);
    std::vector<std::unique_ptr<char[]>> blocks;
    for (int i = 0; i < 10000; ++i) {
        blocks.emplace_back(new char[1000]);
        std::memset(blocks.back().get(), i & 0xff, 1000);
    }
    BOOST_TEST(blocks.back()[999] == static_cast<char>(9999 & 0xff));
    blocks.clear();
    BOOST_TEST(mallinfo2().arena >= after); // freed memory is kept, not trimmed back
}

BOOST_AUTO_TEST_SUITE_END()
