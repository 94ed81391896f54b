#include "plugin/preflight/cidr.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

using namespace meshlink::plugin::preflight;

namespace {

Prefix p(std::string_view text) {
    auto prefix = parse_prefix(text);
    BOOST_TEST_REQUIRE(prefix.has_value(), text);
    return *prefix;
}

} // namespace

BOOST_AUTO_TEST_SUITE(preflight_cidr)

BOOST_AUTO_TEST_CASE(parses_both_families) {
    const auto v4 = p("10.1.0.0/16");
    BOOST_TEST(!v4.ipv6);
    BOOST_TEST(v4.length == 16);
    BOOST_TEST((v4.first == (Address{10} << 24 | Address{1} << 16)));
    BOOST_TEST((v4.last == (Address{10} << 24 | Address{1} << 16 | 0xffff)));
    const auto v6 = p("fd00:10:244::/56");
    BOOST_TEST(v6.ipv6);
    BOOST_TEST(v6.length == 56);
    BOOST_TEST((v6.first >> 112 == 0xfd00));
    BOOST_TEST((v6.last - v6.first == (Address{1} << 72) - 1));
    // A bare address is a single-address range.
    const auto host = p("10.96.0.1");
    BOOST_TEST(host.length == 32);
    BOOST_TEST((host.first == host.last));
    BOOST_TEST(p("::1").length == 128);
    // Host bits set: the range is what the mask covers.
    BOOST_TEST((p("10.1.2.3/16").first == p("10.1.0.0/16").first));
    BOOST_TEST(p("0.0.0.0/0").contains(p("255.255.255.255")));
    BOOST_TEST(p("::/0").contains(p("ffff::1")));
}

BOOST_AUTO_TEST_CASE(rejects_malformed_text) {
    for (const char* text :
         {"", "10.0.0.0/", "10.0.0.0/33", "256.0.0.0/8", "10.0.0/8", "10.0.0.0/8x", "10.0.0.0/-1", "::/129",
          "fd00::/abc", "fd00:::1/64", "cluster-pool", "10.0.0.0 /8"}) {
        BOOST_TEST(!parse_prefix(text).has_value(), text);
    }
}

BOOST_AUTO_TEST_CASE(overlap_and_containment_edges) {
    BOOST_TEST(p("10.0.0.0/8").overlaps(p("10.1.0.0/16")));
    BOOST_TEST(p("10.1.0.0/16").overlaps(p("10.0.0.0/8")));
    BOOST_TEST(p("10.0.0.0/8").contains(p("10.1.0.0/16")));
    BOOST_TEST(!p("10.1.0.0/16").contains(p("10.0.0.0/8")));
    // Adjacent ranges touch but do not share an address.
    BOOST_TEST(!p("10.0.0.0/25").overlaps(p("10.0.0.128/25")));
    BOOST_TEST(p("10.0.0.0/24").overlaps(p("10.0.0.255")));
    BOOST_TEST(!p("10.0.0.0/24").overlaps(p("10.0.1.0")));
    // The same numbers in the other family are other addresses.
    BOOST_TEST(!p("::/96").overlaps(p("10.0.0.0/8")));
    BOOST_TEST(!p("::ffff:10.0.0.0/104").overlaps(p("10.0.0.0/8")));
    BOOST_TEST(p("fd00::/8").overlaps(p("fd00:10::/104")));
    BOOST_TEST(!p("fd00:10::/104").overlaps(p("fd00:11::/104")));
}

BOOST_AUTO_TEST_CASE(lists_split_on_spaces_and_commas) {
    const auto list = parse_prefix_list("10.1.0.0/16  10.2.0.0/16,fd00::/104 , bogus");
    BOOST_TEST(list.prefixes.size() == 3u);
    BOOST_TEST(list.prefixes[2].ipv6);
    BOOST_TEST(list.bad.size() == 1u);
    BOOST_TEST(list.bad.front() == "bogus");
    BOOST_TEST(parse_prefix_list("").prefixes.empty());
}

BOOST_AUTO_TEST_CASE(overlapping_names_the_prefixes_as_written) {
    const std::vector<Prefix> a{p("10.1.0.0/16"), p("10.2.0.0/16"), p("fd00:1::/64")};
    const std::vector<Prefix> b{p("10.3.0.0/16"), p("10.2.128.0/17"), p("fd00:2::/64")};
    const auto shared = overlapping(a, b);
    BOOST_TEST_REQUIRE(shared.size() == 1u);
    BOOST_TEST(shared[0].first.text == "10.2.0.0/16");
    BOOST_TEST(shared[0].second.text == "10.2.128.0/17");
    BOOST_TEST(overlapping(a, {p("10.4.0.0/16"), p("fd00:3::/64")}).empty());
    BOOST_TEST(overlapping({}, b).empty());
    // IPv6 overlaps are found too.
    const auto v6 = overlapping(a, {p("fd00::/16")});
    BOOST_TEST_REQUIRE(v6.size() == 1u);
    BOOST_TEST(v6[0].first.text == "fd00:1::/64");
}

BOOST_AUTO_TEST_CASE(overlapping_scales_to_per_node_ranges) {
    // Two clusters of 4096 nodes with a /24 each: disjoint, then one shared /24 at the end.
    std::vector<Prefix> a;
    std::vector<Prefix> b;
    for (int i = 0; i < 4096; ++i) {
        a.push_back(p(fmt::format("10.{}.{}.0/24", i / 256, i % 256)));
        b.push_back(p(fmt::format("10.{}.{}.0/24", 16 + i / 256, i % 256)));
    }
    BOOST_TEST(overlapping(a, b).empty());
    b.push_back(p("10.15.255.0/24"));
    const auto shared = overlapping(a, b, 10);
    BOOST_TEST_REQUIRE(shared.size() == 1u);
    BOOST_TEST(shared[0].first.text == "10.15.255.0/24");
    // Limit: at most that many pairs.
    BOOST_TEST(overlapping(a, a, 3).size() <= 3u);
    BOOST_TEST(!overlapping(a, a, 3).empty());
}

BOOST_AUTO_TEST_CASE(not_covered_lists_what_escapes) {
    const std::vector<Prefix> pods{p("10.1.0.0/16"), p("10.2.0.0/16"), p("fd00::/104")};
    BOOST_TEST(not_covered(pods, {p("10.0.0.0/8"), p("fd00::/64")}).empty());
    const auto missing = not_covered(pods, {p("10.1.0.0/16")});
    BOOST_TEST_REQUIRE(missing.size() == 2u);
    BOOST_TEST(missing[0].text == "10.2.0.0/16");
    BOOST_TEST(describe(missing) == "10.2.0.0/16, fd00::/104");
}

BOOST_AUTO_TEST_SUITE_END()
