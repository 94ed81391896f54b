#include "probe/kernel_release.hpp"

#include <cstddef>

namespace meshlink::probe {
namespace {

// The kernel's __NEW_UTS_LEN: a longer "release" cannot come from uname.
constexpr std::size_t k_max_release = 64;
// Version components above this are not kernel versions (and would overflow an int).
constexpr int k_max_component = 1000000;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads a decimal number at `pos`; advances `pos`. Returns nullopt when there is no digit or it is too big.
std::optional<int> number(std::string_view text, std::size_t& pos) {
    const std::size_t start = pos;
    long value = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        value = value * 10 + (text[pos] - '0');
        if (value > k_max_component) {
            return std::nullopt;
        }
        ++pos;
    }
    if (pos == start) {
        return std::nullopt;
    }
    return static_cast<int>(value);
}

// ".el8_10" / ".el9" / ".el7" inside the local version, as Red Hat's kernels are named.
void parse_el_tag(std::string_view local, KernelRelease& out) {
    for (std::size_t at = local.find(".el"); at != std::string_view::npos; at = local.find(".el", at + 1)) {
        std::size_t pos = at + 3;
        auto major = number(local, pos);
        if (!major) {
            continue;
        }
        out.el_major = major;
        if (pos < local.size() && local[pos] == '_') {
            ++pos;
            out.el_minor = number(local, pos);
        }
        return;
    }
}

} // namespace

std::string to_string(const KernelVersion& version) {
    std::string text = std::to_string(version.major) + "." + std::to_string(version.minor);
    if (version.patch != 0) {
        text += "." + std::to_string(version.patch);
    }
    return text;
}

KernelRelease parse_kernel_release(std::string_view text) {
    KernelRelease out;
    const std::string_view release = trim(text);
    if (release.empty()) {
        out.error = "empty kernel release";
        return out;
    }
    if (release.size() > k_max_release) {
        out.error = "kernel release longer than " + std::to_string(k_max_release) + " bytes";
        return out;
    }
    for (char c : release) {
        // What kernel builds put in a release; anything else (a '/' above all, since the release becomes part
        // of paths such as /lib/modules/<release>) cannot come from uname.
        const bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             c == '.' || c == '-' || c == '_' || c == '+' || c == '~';
        if (!allowed) {
            out.error = "kernel release contains characters a kernel release cannot have";
            return out;
        }
    }
    out.release = std::string(release);

    std::size_t pos = 0;
    KernelVersion version;
    auto major = number(release, pos);
    if (!major || pos >= release.size() || release[pos] != '.') {
        out.error = "kernel release \"" + out.release + "\" does not start with <major>.<minor>";
        return out;
    }
    ++pos;
    auto minor = number(release, pos);
    if (!minor) {
        out.error = "kernel release \"" + out.release + "\" does not start with <major>.<minor>";
        return out;
    }
    version.major = *major;
    version.minor = *minor;
    if (pos < release.size() && release[pos] == '.') {
        std::size_t patch_pos = pos + 1;
        if (auto patch = number(release, patch_pos)) {
            version.patch = *patch;
            pos = patch_pos;
        }
    }
    out.version = version;

    // The local version: "-1160.119.1.el7.x86_64", "-1051-azure", "-fc-v669", "+" for dirty trees.
    std::string_view local = release.substr(pos);
    if (!local.empty() && local.front() == '-') {
        std::size_t build_pos = 1;
        out.build = number(local, build_pos);
    }
    parse_el_tag(local, out);
    return out;
}

KernelRelease read_kernel_release(const Host& host) {
    const auto path = host.in_proc("sys/kernel/osrelease");
    FileText file = read_text(path, 4096);
    if (!file.text) {
        KernelRelease out;
        out.error = file.error;
        return out;
    }
    KernelRelease out = parse_kernel_release(*file.text);
    if (!out.error.empty()) {
        out.error = path.string() + ": " + out.error;
    }
    return out;
}

} // namespace meshlink::probe
