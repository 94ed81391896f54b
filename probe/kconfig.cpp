#include "probe/kconfig.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

namespace meshlink::probe {
namespace {

// A decompressed config is ~300 KB; anything far larger is not one.
constexpr std::size_t k_max_config = 16u << 20;

struct GzClose {
    void operator()(gzFile file) const noexcept { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

bool is_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_upper_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Why `line` is not a line a kernel config can contain, or "" when it is fine.
std::string_view line_problem(std::string_view line) {
    for (char c : line) {
        if ((static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 0x7f) {
            return "control character";
        }
    }
    if (line.empty() || line.front() == '#') {
        return {};
    }
    constexpr std::string_view prefix = "CONFIG_";
    if (line.substr(0, prefix.size()) != prefix) {
        return "not CONFIG_<NAME>=<value>";
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == prefix.size()) {
        return "not CONFIG_<NAME>=<value>";
    }
    for (char c : line.substr(prefix.size(), eq - prefix.size())) {
        if (!is_name_char(c)) {
            return "invalid option name";
        }
    }
    if (eq + 1 == line.size()) {
        return "empty value";
    }
    return {};
}

// Reads a gzip or plain file (zlib passes plain files through) of at most k_max_config bytes.
FileText read_maybe_gzip(const std::filesystem::path& path) {
    FileText result;
    auto fd = util::open_for_reading(path, {.regular_only = true});
    if (!fd) {
        result.error = file_error(path, fd.error());
        return result;
    }
    GzFile gz(gzdopen(fd->get(), "rb"));
    if (!gz) {
        result.error = path.string() + ": cannot open for decompression";
        return result;
    }
    fd->release(); // gzclose closes it now
    std::string text;
    char buffer[65536];
    for (;;) {
        const int n = gzread(gz.get(), buffer, sizeof buffer);
        if (n < 0) {
            int zerr = 0;
            const char* message = gzerror(gz.get(), &zerr);
            result.error = path.string() + ": " +
                           (zerr == Z_ERRNO ? std::string(std::strerror(errno)) : std::string(message));
            return result;
        }
        if (n == 0) {
            break;
        }
        if (text.size() + static_cast<std::size_t>(n) > k_max_config) {
            result.error = path.string() + ": larger than " + std::to_string(k_max_config) + " bytes";
            return result;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    result.text = std::move(text);
    return result;
}

} // namespace

std::string_view to_string(OptionState state) {
    switch (state) {
    case OptionState::y:
        return "y";
    case OptionState::m:
        return "m";
    case OptionState::n:
        return "n";
    case OptionState::unset:
        return "unset";
    case OptionState::unknown:
        return "unknown";
    }
    return "unknown";
}

KernelConfig parse_kconfig(std::string_view text) {
    KernelConfig config;
    std::size_t pos = 0;
    std::size_t line_no = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line_no == 2 && line == "# Automatically generated file; DO NOT EDIT.") {
            config.generated_header = true;
        }
        if (std::string_view problem = line_problem(line); !problem.empty()) {
            if (config.bad_line == 0) {
                config.bad_line = line_no;
                config.bad_reason = std::string(problem);
            }
            continue;
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        ++config.assignments;
        const std::size_t eq = line.find('=');
        const std::string_view name = line.substr(0, eq);
        const char value = line[eq + 1];
        bool upper = true;
        for (char c : name) {
            upper = upper && is_upper_name_char(c);
        }
        if (upper && (value == 'y' || value == 'm' || value == 'n')) {
            config.options.insert_or_assign(std::string(name), value);
        }
    }
    return config;
}

OptionState KconfigFacts::get(std::string_view option) const {
    if (source.empty()) {
        return OptionState::unknown;
    }
    auto it = config.options.find(option);
    if (it == config.options.end()) {
        return OptionState::unset;
    }
    switch (it->second) {
    case 'y':
        return OptionState::y;
    case 'm':
        return OptionState::m;
    default:
        return OptionState::n;
    }
}

std::vector<std::filesystem::path> kconfig_candidates(const Host& host, std::string_view release) {
    std::vector<std::filesystem::path> out{host.in_proc("config.gz")};
    if (release.empty()) {
        return out;
    }
    const std::string r(release);
    // system-validators also tries /usr/src/linux/.config; it names no release, so it may describe another
    // kernel than the running one, and a wrong answer is worse than "unknown".
    for (const std::string& path :
         {"/boot/config-" + r, "/lib/modules/" + r + "/config", "/usr/lib/modules/" + r + "/config",
          "/usr/src/linux-" + r + "/.config", "/usr/lib/ostree-boot/config-" + r,
          "/usr/lib/kernel/config-" + r, "/usr/src/linux-headers-" + r + "/.config",
          "/lib/modules/" + r + "/build/.config"}) {
        out.push_back(host.in_root(path));
    }
    return out;
}

KconfigFacts read_kconfig(const Host& host, std::string_view release) {
    KconfigFacts facts;
    std::string skipped;
    for (const auto& path : kconfig_candidates(host, release)) {
        facts.searched.push_back(path.string());
        std::error_code ec;
        const auto status = std::filesystem::symlink_status(path, ec);
        if (ec || status.type() == std::filesystem::file_type::not_found) {
            continue;
        }
        FileText file = read_maybe_gzip(path);
        if (!file.text) {
            skipped += (skipped.empty() ? "" : "; ") + file.error;
            continue;
        }
        KernelConfig config = parse_kconfig(*file.text);
        if (!config.usable()) {
            std::string why = config.bad_line != 0
                                  ? "line " + std::to_string(config.bad_line) + ": " + config.bad_reason
                                  : std::string("no CONFIG_ assignments");
            skipped += (skipped.empty() ? "" : "; ") + path.string() + ": not a kernel config (" + why + ")";
            continue;
        }
        facts.source = path.string();
        facts.config = std::move(config);
        facts.error = skipped; // candidates before this one that could not be used, if any
        return facts;
    }
    if (skipped.empty()) {
        facts.error = release.empty()
                          ? "no kernel config: /proc/config.gz is absent and the kernel release is unknown"
                          : "no kernel config found for " + std::string(release);
    } else {
        facts.error = "no usable kernel config: " + skipped;
    }
    return facts;
}

} // namespace meshlink::probe
