#pragma once
// Service address allocation as kube-apiserver's allocators do it: ClusterIPs from the service CIDR
// (the first address belongs to the `kubernetes` Service) and NodePorts from 30000-32767.

#include "util/error.hpp"

#include <cstdint>
#include <map>
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

// Pod addresses as node IPAM hands them out: every Node gets a block of its own (its spec.podCIDR when it has
// one, else the next /24 of the cluster's pod range, as kube-controller-manager's --cluster-cidr with
// --node-cidr-mask-size=24 or Cilium's cluster-pool IPAM do), and every Pod the next address of its Node's
// block (skipping the network address and the first host address, which the node's gateway takes).
class PodIpAllocator {
public:
    // `cidr` is an IPv4 CIDR between /8 and /24 ("10.244.0.0/16").
    static util::Result<PodIpAllocator> create(const std::string& cidr);

    // The next address for a Pod on `node`; `node_cidr` is the Node's spec.podCIDR ("" = none).
    std::string allocate(const std::string& node, const std::string& node_cidr);
    [[nodiscard]] const std::string& cidr() const { return m_cidr; }

private:
    struct Block {
        uint32_t network = 0;
        uint32_t size = 0;
        uint32_t next = 2;
    };
    std::string m_cidr;
    uint32_t m_network = 0;
    uint32_t m_size = 0;
    uint32_t m_next_block = 0;
    std::map<std::string, Block> m_blocks; // by node name
};

} // namespace meshlink::fakekube
