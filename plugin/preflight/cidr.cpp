#include "plugin/preflight/cidr.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace meshlink::plugin::preflight {
namespace {

using U128 = Address;

// The addresses a prefix of `length` bits covers below its first address, within `bits`.
U128 host_mask(int bits, int length) {
    const int host_bits = bits - length;
    if (host_bits <= 0) {
        return 0;
    }
    if (host_bits >= 128) {
        return ~U128{0};
    }
    return (U128{1} << host_bits) - 1;
}

struct Range {
    bool ipv6 = false;
    U128 first = 0;
    U128 last = 0;
};

// Sorted, merged ranges of one family: disjoint and ascending.
std::vector<Range> merged(const std::vector<Prefix>& prefixes, bool ipv6) {
    std::vector<Range> ranges;
    for (const auto& p : prefixes) {
        if (p.ipv6 == ipv6) {
            ranges.push_back({p.ipv6, p.first, p.last});
        }
    }
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
    std::vector<Range> out;
    for (const auto& r : ranges) {
        if (!out.empty() && r.first <= out.back().last) {
            out.back().last = std::max(out.back().last, r.last);
        } else {
            out.push_back(r);
        }
    }
    return out;
}

// A prefix of `list` holding `address` (family `ipv6`); the smallest one, which is the most specific.
const Prefix* holder(const std::vector<Prefix>& list, bool ipv6, U128 address) {
    const Prefix* best = nullptr;
    for (const auto& p : list) {
        if (p.ipv6 == ipv6 && p.first <= address && address <= p.last &&
            (best == nullptr || p.length > best->length)) {
            best = &p;
        }
    }
    return best;
}

} // namespace

bool Prefix::contains(const Prefix& other) const {
    return ipv6 == other.ipv6 && first <= other.first && other.last <= last;
}

bool Prefix::overlaps(const Prefix& other) const {
    return ipv6 == other.ipv6 && first <= other.last && other.first <= last;
}

std::optional<Prefix> parse_prefix(std::string_view text) {
    const auto slash = text.find('/');
    const std::string address(text.substr(0, slash));
    Prefix out;
    out.text = std::string(text);
    U128 value = 0;
    if (address.find(':') != std::string::npos) {
        in6_addr a6{};
        if (::inet_pton(AF_INET6, address.c_str(), &a6) != 1) {
            return std::nullopt;
        }
        for (unsigned char byte : a6.s6_addr) {
            value = (value << 8) | byte;
        }
        out.ipv6 = true;
    } else {
        in_addr a4{};
        if (::inet_pton(AF_INET, address.c_str(), &a4) != 1) {
            return std::nullopt;
        }
        value = ntohl(a4.s_addr);
    }
    const int bits = out.ipv6 ? 128 : 32;
    out.length = bits;
    if (slash != std::string_view::npos) {
        const std::string_view length = text.substr(slash + 1);
        int n = -1;
        const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
        if (ec != std::errc() || end != length.data() + length.size() || n < 0 || n > bits) {
            return std::nullopt;
        }
        out.length = n;
    }
    const U128 mask = host_mask(bits, out.length);
    out.first = value & ~mask;
    out.last = out.first | mask;
    return out;
}

PrefixList parse_prefix_list(std::string_view text) {
    PrefixList out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto end = text.find_first_of(" ,\t\n", pos);
        const std::string_view item = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
        if (!item.empty()) {
            if (auto prefix = parse_prefix(item)) {
                out.prefixes.push_back(std::move(*prefix));
            } else {
                out.bad.emplace_back(item);
            }
        }
        if (end == std::string_view::npos) {
            break;
        }
        pos = end + 1;
    }
    return out;
}

std::vector<std::pair<Prefix, Prefix>> overlapping(const std::vector<Prefix>& a, const std::vector<Prefix>& b,
                                                   std::size_t limit) {
    std::vector<std::pair<Prefix, Prefix>> out;
    for (bool ipv6 : {false, true}) {
        const auto ra = merged(a, ipv6);
        const auto rb = merged(b, ipv6);
        std::size_t i = 0;
        std::size_t j = 0;
        while (i < ra.size() && j < rb.size() && out.size() < limit) {
            const U128 first = std::max(ra[i].first, rb[j].first);
            const U128 last = std::min(ra[i].last, rb[j].last);
            if (first <= last) {
                // Name the prefixes as written that hold the start of the shared region.
                const Prefix* pa = holder(a, ipv6, first);
                const Prefix* pb = holder(b, ipv6, first);
                if (pa != nullptr && pb != nullptr) {
                    out.emplace_back(*pa, *pb);
                }
            }
            if (ra[i].last < rb[j].last) {
                ++i;
            } else {
                ++j;
            }
        }
    }
    return out;
}

std::vector<Prefix> not_covered(const std::vector<Prefix>& inner, const std::vector<Prefix>& outer) {
    std::vector<Prefix> out;
    for (const auto& p : inner) {
        const bool covered =
            std::any_of(outer.begin(), outer.end(), [&](const Prefix& o) { return o.contains(p); });
        if (!covered) {
            out.push_back(p);
        }
    }
    return out;
}

std::string describe(const std::vector<Prefix>& prefixes, std::size_t limit) {
    std::string out;
    for (std::size_t i = 0; i < prefixes.size() && i < limit; ++i) {
        out += (i == 0 ? "" : ", ") + prefixes[i].text;
    }
    if (prefixes.size() > limit) {
        out += fmt::format(" and {} more", prefixes.size() - limit);
    }
    return out;
}

} // namespace meshlink::plugin::preflight
