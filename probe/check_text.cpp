#include "probe/check_text.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace meshlink::probe::detail {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : std::string(separator)) + item;
    }
    return out;
}

std::string join_some(const std::vector<std::string>& items, std::size_t limit) {
    if (items.size() <= limit) {
        return join(items);
    }
    const std::vector<std::string> head(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(limit));
    return fmt::format("{} and {} more", join(head), items.size() - limit);
}

std::string describe_kernel(const KernelRelease& kernel) {
    if (!kernel.version) {
        return kernel.release.empty() ? std::string("unknown") : kernel.release;
    }
    std::string text =
        fmt::format("{}.{}.{}", kernel.version->major, kernel.version->minor, kernel.version->patch);
    if (kernel.build) {
        text += fmt::format("-{}", *kernel.build);
    }
    return text;
}

std::string distribution(const OsRelease& os) {
    if (auto pretty = os.get("PRETTY_NAME"); !pretty.empty()) {
        return pretty;
    }
    if (auto name = os.get("NAME"); !name.empty()) {
        return name + (os.get("VERSION_ID").empty() ? "" : " " + os.get("VERSION_ID"));
    }
    return os.get("ID").empty() ? std::string("an unknown distribution") : os.get("ID");
}

std::optional<int> el_major(const NodeFacts& facts) {
    if (facts.kernel.el_major) {
        return facts.kernel.el_major;
    }
    const auto& os = facts.os;
    const bool el = os.is_like("rhel") || os.is_like("centos");
    const std::string version = os.get("VERSION_ID");
    if (!el || version.empty() || version.front() < '0' || version.front() > '9') {
        return std::nullopt;
    }
    return std::atoi(version.c_str());
}

std::string upgrade_hint(const NodeFacts& facts) {
    const auto el = el_major(facts);
    if (el && *el <= 7) {
        return "upgrade the OS to EL8 or later: EL7 is end of life, and its last ELRepo kernel-ml (6.9.7) is "
               "archive-only and has no BTF";
    }
    if (el) {
        return "upgrade the kernel (`kubectl meshlink kernel plan` shows which nodes the cluster rollout can "
               "move to ELRepo kernel-ml) or the OS";
    }
    return fmt::format("upgrade the kernel from {}'s packages, or upgrade the OS", distribution(facts.os));
}

std::string cilium_label(CiliumVersion version) {
    return "Cilium " + to_string(version);
}

bool option_present(OptionState state, bool must_be_builtin) {
    return state == OptionState::y || (!must_be_builtin && state == OptionState::m);
}

} // namespace meshlink::probe::detail
