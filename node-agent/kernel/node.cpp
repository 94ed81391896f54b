#include "node-agent/kernel/node.hpp"

#include "node-agent/defaults.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <system_error>

namespace meshlink::agent::kernel {
namespace {

namespace fs = std::filesystem;

std::string first_line(const fs::path& path, std::size_t limit = 4096) {
    auto text = probe::read_text(path, limit);
    if (!text.text) {
        return {};
    }
    const auto line = text.text->substr(0, text.text->find('\n'));
    return std::string(probe::trim(line));
}

// The grubenv GRUB uses on this node: /boot/grub2/grubenv (on EL8 UEFI a symlink into the ESP), else EL7
// UEFI's copy on the ESP.
std::string grubenv_file(const probe::Host& files) {
    std::error_code ec;
    if (fs::exists(files.in_root(defaults::k_grubenv), ec) ||
        fs::is_symlink(files.in_root(defaults::k_grubenv), ec)) {
        return std::string(defaults::k_grubenv);
    }
    for (fs::directory_iterator it(files.in_root("/boot/efi/EFI"), ec), end; !ec && it != end;
         it.increment(ec)) {
        if (fs::exists(it->path() / "grubenv", ec)) {
            return "/boot/efi/EFI/" + it->path().filename().string() + "/grubenv";
        }
    }
    return std::string(defaults::k_grubenv);
}

// The host path the grubenv really is at, following symlinks inside --root (EL8 UEFI's relative symlink).
std::string real_host_path(const probe::Host& files, const std::string& host_path) {
    fs::path current = host_path;
    for (int hops = 0; hops < 8; ++hops) {
        std::error_code ec;
        const auto here = files.in_root(current.string());
        if (!fs::is_symlink(here, ec)) {
            break;
        }
        const auto target = fs::read_symlink(here, ec);
        if (ec) {
            break;
        }
        current = target.is_absolute() ? target : (current.parent_path() / target).lexically_normal();
    }
    return current.string();
}

} // namespace

std::optional<int> el_release(const probe::OsRelease& os, std::string* why) {
    const std::string platform = os.get("PLATFORM_ID");
    constexpr std::string_view k_platform = "platform:el";
    if (platform.rfind(k_platform, 0) == 0) {
        const int n = std::atoi(platform.c_str() + k_platform.size());
        if (n > 0) {
            return n;
        }
    }
    const bool rhel_like = os.get("ID") != "fedora" && (os.is_like("rhel") || os.is_like("centos"));
    const std::string version = os.get("VERSION_ID");
    if (rhel_like && !version.empty() && version.front() >= '1' && version.front() <= '9') {
        return std::atoi(version.c_str());
    }
    if (why != nullptr) {
        *why = os.source.empty()
                   ? "os-release unreadable: " + os.error
                   : fmt::format("{} ({}) is not Enterprise Linux",
                                 os.get("PRETTY_NAME").empty() ? os.get("ID") : os.get("PRETTY_NAME"),
                                 os.source);
    }
    return std::nullopt;
}

std::string env_value(const GrubEnv& env, const std::string& key) {
    auto it = env.values.find(key);
    return it == env.values.end() ? std::string() : it->second;
}

GrubEnv read_grubenv(Host& host, const std::string& file) {
    GrubEnv env;
    env.file = file;
    std::error_code ec;
    if (!fs::exists(host.files().in_root(file), ec)) {
        env.error = host.files().in_root(file).string() + ": no GRUB environment block";
        return env;
    }
    auto listed = host.run(Tool::grub_editenv, {file, "list"}, defaults::k_tool_timeout);
    if (!listed) {
        env.error = listed.error().message;
        return env;
    }
    if (!listed->ok()) {
        env.error = listed->command + ": " + listed->tail();
        return env;
    }
    std::size_t pos = 0;
    const std::string& out = listed->out;
    while (pos < out.size()) {
        std::size_t end = out.find('\n', pos);
        if (end == std::string::npos) {
            end = out.size();
        }
        const auto line = out.substr(pos, end - pos);
        pos = end + 1;
        if (const auto eq = line.find('='); eq != std::string::npos && eq > 0) {
            env.values[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    return env;
}

util::Result<NodeState> read_node(Host& host) {
    const auto& files = host.files();
    NodeState node;
    node.os = probe::read_os_release(files);
    node.el = el_release(node.os, &node.el_error);
    node.running = probe::read_kernel_release(files);
    node.boot_id = first_line(files.in_proc("sys/kernel/random/boot_id"));
    if (auto cmdline = probe::read_text(files.in_proc("cmdline"), 64 * 1024); cmdline.text) {
        node.cmdline = std::string(probe::trim(*cmdline.text));
    }
    node.secure_boot = probe::read_secure_boot(files);
    node.boot_free_bytes = probe::read_boot(files).boot_free_bytes;
    node.loader = read_boot_loader(files, node.el.value_or(0));
    node.grubenv = read_grubenv(host, grubenv_file(files));
    node.grubenv_device = read_boot_device(files, real_host_path(files, node.grubenv.file));
    auto grub_default = probe::read_text(files.in_root(defaults::k_default_grub), 64 * 1024);
    if (grub_default.text) {
        node.grub_default = probe::shell_assignment(*grub_default.text, "GRUB_DEFAULT");
        if (!node.grub_default) {
            node.grub_default_error =
                files.in_root(defaults::k_default_grub).string() + " does not set GRUB_DEFAULT";
        }
    } else {
        node.grub_default_error = grub_default.error;
    }
    return node;
}

} // namespace meshlink::agent::kernel
