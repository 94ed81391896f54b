#pragma once
// Every threshold the probe judges by, written once.

#include <cstdint>

namespace meshlink::probe::defaults {

// /boot space a kernel-ml install needs (vmlinuz, initramfs, System.map); see docs/kernel.md.
inline constexpr std::uint64_t k_min_boot_free_bytes = 200ull * 1024 * 1024;

} // namespace meshlink::probe::defaults
