#include "probe/boot.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace meshlink::probe {
namespace {

// The EFI global variable GUID; the variable's data is 4 attribute bytes and then the value (1 = on).
constexpr std::string_view k_secure_boot_name = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";
constexpr std::string_view k_setup_mode_name = "SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c";
// shim's runtime copy of its MOK Secure Boot state: present when validation was disabled with mokutil.
constexpr std::string_view k_mok_sb_state_name = "MokSBStateRT-605dab50-e046-4300-abb6-3dd810dd8b23";

bool path_exists(const std::filesystem::path& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

// The data byte of a small EFI variable (after its 4 attribute bytes); nullopt with `error` set when
// unreadable.
std::optional<unsigned char> efi_byte(const Host& host, std::string_view var, std::string& error) {
    const auto path = host.in_sys(std::string("firmware/efi/efivars/") + std::string(var));
    FileText file = read_text(path, 64);
    if (!file.text) {
        error = file.error;
        return std::nullopt;
    }
    if (file.text->size() < 5) {
        error = path.string() + ": shorter than an EFI variable (" + std::to_string(file.text->size()) +
                " bytes)";
        return std::nullopt;
    }
    return static_cast<unsigned char>((*file.text)[4]);
}

void read_firmware(const Host& host, BootFacts& facts) {
    if (path_exists(host.in_sys("firmware/efi"))) {
        facts.firmware = "uefi";
    } else if (path_exists(host.in_sys("firmware"))) {
        facts.firmware = "bios";
        facts.secure_boot = false; // Secure Boot is a UEFI feature
        return;
    } else {
        facts.errors.push_back(host.in_sys("firmware").string() + ": absent, cannot tell BIOS from UEFI");
        return;
    }
    const auto efivars = host.in_sys("firmware/efi/efivars");
    std::error_code ec;
    if (!std::filesystem::is_directory(efivars, ec) || std::filesystem::is_empty(efivars, ec)) {
        facts.errors.push_back(efivars.string() + ": efivarfs not mounted, Secure Boot state unknown");
        return;
    }
    const auto var = host.in_sys("firmware/efi/efivars/" + std::string(k_secure_boot_name));
    std::string error;
    if (auto value = efi_byte(host, std::string(k_secure_boot_name), error)) {
        facts.secure_boot = *value == 1;
    } else if (!path_exists(var)) {
        facts.secure_boot = false; // firmware without Secure Boot support
    } else {
        facts.errors.push_back(error);
    }
}

void read_boot_space(const Host& host, BootFacts& facts) {
    const auto boot = host.in_root("/boot");
    struct statvfs vfs {};
    if (::statvfs(boot.c_str(), &vfs) != 0) {
        facts.errors.push_back(path_error(boot, errno));
        return;
    }
    facts.boot_free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

void read_loader(const Host& host, BootFacts& facts) {
    // EL keeps grubenv in /boot/grub2, Debian and Ubuntu in /boot/grub; EL7 UEFI under the ESP.
    for (const char* candidate : {"/boot/grub2/grubenv", "/boot/grub/grubenv"}) {
        const auto path = host.in_root(candidate);
        FileText file = read_text(path, 64 * 1024);
        if (!file.text) {
            if (path_exists(path)) {
                facts.errors.push_back(file.error);
            }
            continue;
        }
        facts.grubenv = path.string();
        facts.saved_entry = grubenv_value(*file.text, "saved_entry");
        break;
    }

    const auto entries = host.in_root("/boot/loader/entries");
    std::error_code ec;
    for (std::filesystem::directory_iterator it(entries, ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (name.size() > 5 && name.substr(name.size() - 5) == ".conf") {
            facts.bls_entries.push_back(name.substr(0, name.size() - 5));
        }
    }
    std::sort(facts.bls_entries.begin(), facts.bls_entries.end());

    FileText grub_default = read_text(host.in_root("/etc/default/grub"), 64 * 1024);
    if (grub_default.text) {
        if (auto bls = shell_assignment(*grub_default.text, "GRUB_ENABLE_BLSCFG")) {
            facts.bls = *bls == "true";
        }
    }
    if (!facts.bls && !facts.bls_entries.empty()) {
        facts.bls = true;
    }
    if (!facts.bls && grub_default.text) {
        facts.bls = false;
    }

    if (facts.saved_entry && !facts.saved_entry->empty()) {
        FileText entry = read_text(entries / (*facts.saved_entry + ".conf"), 64 * 1024);
        if (entry.text) {
            // BLS entries are "key value" lines; "version" names the kernel release.
            std::size_t pos = 0;
            const std::string_view text = *entry.text;
            while (pos < text.size()) {
                const std::size_t end = text.find('\n', pos);
                std::string_view line = trim(
                    text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
                pos = end == std::string_view::npos ? text.size() : end + 1;
                if (line.substr(0, 8) == "version ") {
                    facts.default_kernel = std::string(trim(line.substr(8)));
                }
            }
        }
    }
}

} // namespace

std::optional<std::string> shell_assignment(std::string_view text, std::string_view key) {
    std::optional<std::string> value;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        std::string_view line =
            trim(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
        pos = end == std::string_view::npos ? text.size() : end + 1;
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=') {
            std::string_view v = line.substr(key.size() + 1);
            if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
                v = v.substr(1, v.size() - 2);
            }
            value = std::string(v); // the last assignment wins, as in the shell
        }
    }
    return value;
}

std::optional<std::string> grubenv_value(std::string_view text, std::string_view key) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=') {
            return std::string(line.substr(key.size() + 1));
        }
    }
    return std::nullopt;
}

std::string_view to_string(SecureBootState::Mode mode) {
    switch (mode) {
    case SecureBootState::Mode::bios:
        return "bios";
    case SecureBootState::Mode::disabled:
        return "disabled";
    case SecureBootState::Mode::setup_mode:
        return "setup-mode";
    case SecureBootState::Mode::validation_disabled:
        return "validation-disabled";
    case SecureBootState::Mode::enabled:
        return "enabled";
    case SecureBootState::Mode::unknown:
        return "unknown";
    }
    return "unknown";
}

SecureBootState read_secure_boot(const Host& host) {
    SecureBootState state;
    if (!path_exists(host.in_sys("firmware/efi"))) {
        if (path_exists(host.in_sys("firmware"))) {
            state.mode = SecureBootState::Mode::bios;
            state.evidence = host.in_sys("firmware/efi").string() + " absent: BIOS boot";
        } else {
            state.evidence = host.in_sys("firmware").string() + ": absent, cannot tell BIOS from UEFI";
        }
        return state;
    }
    // mokutil's rule (src/mokutil.c): enabled iff SecureBoot=1 and SetupMode=0. A variable that cannot be
    // read on a UEFI system leaves the state unknown, which callers treat as enabled (fail closed).
    std::string error;
    const auto secure_boot = efi_byte(host, k_secure_boot_name, error);
    if (!secure_boot) {
        state.evidence = "SecureBoot variable unreadable: " + error;
        return state;
    }
    if (*secure_boot == 0) {
        state.mode = SecureBootState::Mode::disabled;
        state.evidence = "SecureBoot=0";
        return state;
    }
    const auto setup_mode = efi_byte(host, k_setup_mode_name, error);
    if (!setup_mode) {
        state.evidence = "SecureBoot=1, SetupMode unreadable: " + error;
        return state;
    }
    if (*setup_mode == 1) {
        state.mode = SecureBootState::Mode::setup_mode;
        state.evidence = "SecureBoot=1, SetupMode=1 (signatures not enforced)";
        return state;
    }
    if (path_exists(host.in_sys(std::string("firmware/efi/efivars/") + std::string(k_mok_sb_state_name)))) {
        state.mode = SecureBootState::Mode::validation_disabled;
        state.evidence = "SecureBoot=1, SetupMode=0, MokSBStateRT present (shim validation disabled)";
        return state;
    }
    state.mode = SecureBootState::Mode::enabled;
    state.evidence = "SecureBoot=1, SetupMode=0";
    return state;
}

BootFacts read_boot(const Host& host) {
    BootFacts facts;
    read_firmware(host, facts);
    read_boot_space(host, facts);
    read_loader(host, facts);
    return facts;
}

} // namespace meshlink::probe
