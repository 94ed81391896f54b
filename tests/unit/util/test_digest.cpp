#include "util/digest.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::util;

BOOST_AUTO_TEST_SUITE(util_digest)

BOOST_AUTO_TEST_CASE(sha256_matches_the_standard_test_vectors) {
    // FIPS 180-2, appendix B.1, and the digest of nothing.
    BOOST_TEST(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_TEST(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_SUITE_END()
