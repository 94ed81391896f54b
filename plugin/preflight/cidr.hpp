#pragma once
// IP prefixes (IPv4 and IPv6) for the mesh's CIDR checks: pod and service ranges must not overlap across
// clusters, and a native routing CIDR must cover every cluster's pods.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlink::plugin::preflight {

// An address of either family as one number (IPv4 in the low 32 bits). __extension__: a GCC/Clang type.
__extension__ typedef unsigned __int128 Address;

struct Prefix {
    bool ipv6 = false;
    Address first = 0; // the lowest address (host bits cleared)
    Address last = 0;  // the highest address
    int length = 0;    // prefix length
    std::string text;  // as written ("10.0.0.0/8")

    // Both families equal and every address of `other` inside this one.
    [[nodiscard]] bool contains(const Prefix& other) const;
    [[nodiscard]] bool overlaps(const Prefix& other) const;
};

// Parses "10.0.0.0/8", "fd00:10::/104", or a bare address (a /32 or /128). Host bits may be set, as
// kube-apiserver tolerates in some flags: the range is what the mask covers. nullopt when malformed.
std::optional<Prefix> parse_prefix(std::string_view text);

// Splits a list of prefixes separated by spaces or commas (cilium-config's `cluster-pool-ipv4-cidr` is
// space-separated, kube-apiserver's `--service-cluster-ip-range` comma-separated). Unparseable entries are
// returned in `bad`.
struct PrefixList {
    std::vector<Prefix> prefixes;
    std::vector<std::string> bad;
};
PrefixList parse_prefix_list(std::string_view text);

// Pairs (one prefix of `a`, one of `b`) that overlap, found by a sweep over both sorted lists, so
// thousands of per-node prefixes compare in n log n. At most `limit` pairs, each overlapping region once.
std::vector<std::pair<Prefix, Prefix>> overlapping(const std::vector<Prefix>& a, const std::vector<Prefix>& b,
                                                   std::size_t limit = 3);

// Prefixes of `inner` not inside any prefix of `outer` of the same family.
std::vector<Prefix> not_covered(const std::vector<Prefix>& inner, const std::vector<Prefix>& outer);

// "10.0.0.0/8, 10.1.0.0/16", at most `limit` then "and N more".
std::string describe(const std::vector<Prefix>& prefixes, std::size_t limit = 4);

} // namespace meshlink::plugin::preflight
