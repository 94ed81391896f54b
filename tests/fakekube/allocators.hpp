#pragma once
// Service address allocation as kube-apiserver's allocators do it: ClusterIPs from the service CIDR
// (the first address belongs to the `kubernetes` Service) and NodePorts from 30000-32767.

#include "util/error.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace meshlink::fakekube {

class ClusterIpAllocator {
public:
    // `cidr` is an IPv4 CIDR such as "10.96.0.0/12".
    static util::Result<ClusterIpAllocator> create(const std::string& cidr);

    // The first usable address (network + 1), reserved for the `kubernetes` Service.
    [[nodiscard]] std::string first() const;
    // Allocates the next free address; nullopt when the range is full.
    std::optional<std::string> allocate();
    // Reserves a requested address; the error text is the real server's.
    util::Result<> reserve(const std::string& ip);
    void release(const std::string& ip);
    [[nodiscard]] const std::string& cidr() const { return m_cidr; }

private:
    std::string m_cidr;
    uint32_t m_network = 0;
    uint32_t m_size = 0;
    uint32_t m_next = 1;
    std::set<uint32_t> m_used;
};

class NodePortAllocator {
public:
    static constexpr int k_min = 30000;
    static constexpr int k_max = 32767;

    std::optional<int> allocate();
    // Fails with "provided port is already allocated" when taken.
    util::Result<> reserve(int port);
    void release(int port);
    [[nodiscard]] bool in_use(int port) const { return m_used.contains(port); }

private:
    std::set<int> m_used;
    int m_next = k_min;
};

} // namespace meshlink::fakekube
