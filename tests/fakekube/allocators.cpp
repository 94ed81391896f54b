#include "tests/fakekube/allocators.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace meshlink::fakekube {
namespace {

std::optional<uint32_t> parse_ipv4(const std::string& text) {
    in_addr addr{};
    if (inet_pton(AF_INET, text.c_str(), &addr) != 1) {
        return std::nullopt;
    }
    return ntohl(addr.s_addr);
}

// "a.b.c.d/n" as (network, size); nullopt when malformed or outside /min_bits../max_bits.
std::optional<std::pair<uint32_t, uint32_t>> parse_cidr(const std::string& cidr, int min_bits, int max_bits) {
    const auto slash = cidr.find('/');
    if (slash == std::string::npos) {
        return std::nullopt;
    }
    auto base = parse_ipv4(cidr.substr(0, slash));
    int bits = -1;
    try {
        bits = std::stoi(cidr.substr(slash + 1));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (!base || bits < min_bits || bits > max_bits) {
        return std::nullopt;
    }
    const uint32_t size = 1U << (32 - bits);
    return std::make_pair(*base & ~(size - 1), size);
}

std::string format_ipv4(uint32_t value) {
    in_addr addr{};
    addr.s_addr = htonl(value);
    char buffer[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &addr, buffer, sizeof buffer);
    return buffer;
}

} // namespace

util::Result<ClusterIpAllocator> ClusterIpAllocator::create(const std::string& cidr) {
    auto slash = cidr.find('/');
    auto base = parse_ipv4(cidr.substr(0, slash));
    int bits = -1;
    if (slash != std::string::npos) {
        try {
            bits = std::stoi(cidr.substr(slash + 1));
        } catch (const std::exception&) {
            bits = -1;
        }
    }
    if (!base || bits < 8 || bits > 30) {
        return util::fail(util::ErrorKind::usage,
                          "service CIDR \"" + cidr + "\" is not an IPv4 CIDR between /8 and /30");
    }
    ClusterIpAllocator allocator;
    allocator.m_cidr = cidr;
    allocator.m_size = 1U << (32 - bits);
    allocator.m_network = *base & ~(allocator.m_size - 1);
    allocator.m_used.insert(1); // the kubernetes Service
    allocator.m_next = 2;
    return allocator;
}

std::string ClusterIpAllocator::first() const {
    return format_ipv4(m_network + 1);
}

std::optional<std::string> ClusterIpAllocator::allocate() {
    // Offsets 1 .. size-2: neither the network nor the broadcast address.
    for (uint32_t tried = 0; tried < m_size; ++tried) {
        uint32_t offset = m_next;
        m_next = m_next + 1 >= m_size - 1 ? 1 : m_next + 1;
        if (offset >= 1 && offset <= m_size - 2 && !m_used.contains(offset)) {
            m_used.insert(offset);
            return format_ipv4(m_network + offset);
        }
    }
    return std::nullopt;
}

util::Result<> ClusterIpAllocator::reserve(const std::string& ip) {
    auto value = parse_ipv4(ip);
    if (!value) {
        return util::fail(util::ErrorKind::invalid,
                          "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    }
    if ((*value & ~(m_size - 1)) != m_network || *value == m_network || *value == m_network + m_size - 1) {
        return util::fail(util::ErrorKind::invalid,
                          "failed to allocate IP " + ip + ": the provided IP (" + ip +
                              ") is not in the valid range. The range of valid IPs is " + m_cidr);
    }
    if (!m_used.insert(*value - m_network).second) {
        return util::fail(util::ErrorKind::invalid,
                          "failed to allocate IP " + ip + ": provided IP is already allocated");
    }
    return {};
}

void ClusterIpAllocator::release(const std::string& ip) {
    if (auto value = parse_ipv4(ip); value && (*value & ~(m_size - 1)) == m_network) {
        m_used.erase(*value - m_network);
    }
}

std::optional<int> NodePortAllocator::allocate() {
    for (int tried = 0; tried <= k_max - k_min; ++tried) {
        int port = m_next;
        m_next = m_next >= k_max ? k_min : m_next + 1;
        if (!m_used.contains(port)) {
            m_used.insert(port);
            return port;
        }
    }
    return std::nullopt;
}

util::Result<> NodePortAllocator::reserve(int port) {
    if (port < k_min || port > k_max) {
        return util::fail(util::ErrorKind::invalid,
                          "provided port is not in the valid range. The range of valid ports is 30000-32767");
    }
    if (!m_used.insert(port).second) {
        return util::fail(util::ErrorKind::invalid, "provided port is already allocated");
    }
    return {};
}

void NodePortAllocator::release(int port) {
    m_used.erase(port);
}

util::Result<PodIpAllocator> PodIpAllocator::create(const std::string& cidr) {
    auto parsed = parse_cidr(cidr, 8, 24);
    if (!parsed) {
        return util::fail(util::ErrorKind::usage,
                          "pod CIDR \"" + cidr + "\" is not an IPv4 CIDR between /8 and /24");
    }
    PodIpAllocator allocator;
    allocator.m_cidr = cidr;
    allocator.m_network = parsed->first;
    allocator.m_size = parsed->second;
    return allocator;
}

std::string PodIpAllocator::allocate(const std::string& node, const std::string& node_cidr) {
    auto it = m_blocks.find(node);
    if (it == m_blocks.end()) {
        Block block;
        if (auto own = parse_cidr(node_cidr, 8, 30)) {
            block.network = own->first;
            block.size = own->second;
        } else {
            constexpr uint32_t k_block = 256; // /24 per node
            const uint32_t blocks = std::max<uint32_t>(1, m_size / k_block);
            block.network = m_network + (m_next_block++ % blocks) * std::min(k_block, m_size);
            block.size = std::min(k_block, m_size);
        }
        it = m_blocks.emplace(node, block).first;
    }
    Block& block = it->second;
    const uint32_t offset = block.next;
    block.next = block.next + 1 >= block.size - 1 ? 2 : block.next + 1;
    return format_ipv4(block.network + offset);
}

} // namespace meshlink::fakekube
