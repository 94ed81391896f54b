#pragma once
// The running kernel's release string (`uname -r`) and the version inside it, tolerant of distribution
// suffixes: "3.10.0-1160.119.1.el7.x86_64", "5.15.0-1051-azure", "6.12.1-1.el9.elrepo.x86_64",
// "6.18.44-fc-v669".

#include "probe/host.hpp"

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::probe {

struct KernelVersion {
    int major = 0;
    int minor = 0;
    int patch = 0;

    friend auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
    friend bool operator==(const KernelVersion&, const KernelVersion&) = default;
};

// "5.10" when patch is 0, "4.19.57" otherwise.
std::string to_string(const KernelVersion& version);

struct KernelRelease {
    std::string release; // as read, without the trailing newline; empty when unknown
    std::optional<KernelVersion> version;
    std::optional<int> build;    // the first number after '-': 1160 in "3.10.0-1160.119.1.el7"
    std::optional<int> el_major; // 8 for ".el8" / ".el8_10" (Enterprise Linux kernels)
    std::optional<int> el_minor; // 10 for ".el8_10"; absent for ".el8"
    std::string error;           // why `release` or `version` is unknown
};

// Parses a release string. A release that does not start with "<major>.<minor>" keeps `release` (if it has
// only characters kernel releases use and at most 64 bytes, uname's limit) but has no version and says why
// in `error`; any other string is rejected whole, since the release becomes part of paths.
KernelRelease parse_kernel_release(std::string_view text);

// Reads <proc>/sys/kernel/osrelease.
KernelRelease read_kernel_release(const Host& host);

} // namespace meshlink::probe
