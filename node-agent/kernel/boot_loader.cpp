#include "node-agent/kernel/boot_loader.hpp"

#include "node-agent/defaults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

namespace meshlink::agent::kernel {
namespace {

namespace fs = std::filesystem;

struct Line {
    std::size_t begin = 0; // offset of the line in the text
    std::size_t end = 0;   // offset of its '\n' (or the text's end)
    std::string_view text;
};

std::vector<Line> lines_of(std::string_view text) {
    std::vector<Line> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        lines.push_back({pos, end, text.substr(pos, end - pos)});
        pos = end + 1;
    }
    return lines;
}

bool starts_with_word(std::string_view line, std::string_view word) {
    line = probe::trim(line);
    return line.size() > word.size() && line.substr(0, word.size()) == word &&
           (line[word.size()] == ' ' || line[word.size()] == '\t');
}

// "/vmlinuz-7.1.9-1.el9.elrepo.x86_64" -> "7.1.9-1.el9.elrepo.x86_64".
std::string kernel_of_image(std::string_view path) {
    const auto slash = path.rfind('/');
    std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    constexpr std::string_view k_prefix = "vmlinuz-";
    if (name.substr(0, k_prefix.size()) != k_prefix) {
        return {};
    }
    return std::string(name.substr(k_prefix.size()));
}

// The first quoted string after "menuentry".
std::string menuentry_title(std::string_view line) {
    line = probe::trim(line);
    line.remove_prefix(std::string_view("menuentry").size());
    line = probe::trim(line);
    if (line.empty() || (line.front() != '\'' && line.front() != '"')) {
        return {};
    }
    const char quote = line.front();
    const auto close = line.find(quote, 1);
    return close == std::string_view::npos ? std::string() : std::string(line.substr(1, close - 1));
}

bool is_linux_command(std::string_view line) {
    return starts_with_word(line, "linux") || starts_with_word(line, "linux16") ||
           starts_with_word(line, "linuxefi");
}

// The line holding the kernel arguments of `entry` in `text`: the BLS "options" line, or the linux line of
// the grub.cfg menuentry titled entry.id.
util::Result<Line> argument_line(std::string_view text, LoaderKind kind, const BootEntry& entry) {
    const auto lines = lines_of(text);
    if (kind == LoaderKind::bls) {
        for (const auto& line : lines) {
            if (starts_with_word(line.text, "options")) {
                return line;
            }
        }
        return util::fail(util::ErrorKind::not_found,
                          entry.file + ": no \"options\" line to carry the trial's kernel arguments");
    }
    bool inside = false;
    for (const auto& line : lines) {
        const auto trimmed = probe::trim(line.text);
        if (starts_with_word(trimmed, "menuentry")) {
            inside = menuentry_title(trimmed) == entry.id;
        } else if (trimmed == "}") {
            inside = false;
        } else if (inside && is_linux_command(trimmed)) {
            return line;
        }
    }
    return util::fail(util::ErrorKind::not_found,
                      fmt::format("{}: no linux line in the menuentry \"{}\"", entry.file, entry.id));
}

// Rebuilds an argument line from its keyword prefix and words: "<indent><keyword> <words...>", keeping the
// kernel image as the first word of a linux line.
std::string rebuild(std::string_view line, const std::vector<std::string>& words) {
    const std::size_t indent = line.find_first_not_of(" \t");
    const std::string_view rest = line.substr(indent);
    const std::size_t keyword_end = rest.find_first_of(" \t");
    std::string out(line.substr(0, indent + keyword_end));
    for (const auto& word : words) {
        out += " " + word;
    }
    return out;
}

std::vector<std::string> words_after_keyword(std::string_view line) {
    auto words = split_words(line);
    if (!words.empty()) {
        words.erase(words.begin());
    }
    return words;
}

std::string replace_line(std::string_view text, const Line& line, const std::string& replacement) {
    std::string out(text.substr(0, line.begin));
    out += replacement;
    out += text.substr(line.end);
    return out;
}

} // namespace

std::string_view to_string(LoaderKind kind) {
    return kind == LoaderKind::bls ? "bls" : "grub.cfg";
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t start = text.find_first_not_of(" \t\r", pos);
        if (start == std::string_view::npos) {
            break;
        }
        std::size_t end = text.find_first_of(" \t\r", start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        words.emplace_back(text.substr(start, end - start));
        pos = end;
    }
    return words;
}

const BootEntry* BootLoader::for_kernel(std::string_view release) const {
    for (const auto& entry : entries) {
        if (!release.empty() && entry.kernel == release) {
            return &entry;
        }
    }
    return nullptr;
}

const BootEntry* BootLoader::by_id(std::string_view id) const {
    for (const auto& entry : entries) {
        if (entry.id == id) {
            return &entry;
        }
    }
    return nullptr;
}

BootEntry parse_bls_entry(std::string_view text, std::string id, std::string file) {
    BootEntry entry;
    entry.id = std::move(id);
    entry.file = std::move(file);
    std::string version;
    for (const auto& line : lines_of(text)) {
        const auto trimmed = probe::trim(line.text);
        const auto space = trimmed.find_first_of(" \t");
        if (trimmed.empty() || trimmed.front() == '#' || space == std::string_view::npos) {
            continue;
        }
        const auto key = trimmed.substr(0, space);
        const auto value = probe::trim(trimmed.substr(space));
        if (key == "title") {
            entry.title = std::string(value);
        } else if (key == "version") {
            version = std::string(value);
        } else if (key == "linux") {
            entry.kernel = kernel_of_image(value);
        } else if (key == "options") {
            entry.options = std::string(value);
        }
    }
    if (entry.kernel.empty()) {
        entry.kernel = version;
    }
    return entry;
}

std::vector<BootEntry> parse_grub_cfg(std::string_view text, const std::string& file) {
    std::vector<BootEntry> entries;
    BootEntry* current = nullptr;
    for (const auto& line : lines_of(text)) {
        const auto trimmed = probe::trim(line.text);
        if (starts_with_word(trimmed, "menuentry")) {
            BootEntry entry;
            entry.title = menuentry_title(trimmed);
            entry.id = entry.title;
            entry.file = file;
            entries.push_back(std::move(entry));
            current = &entries.back();
        } else if (trimmed == "}") {
            current = nullptr;
        } else if (current != nullptr && is_linux_command(trimmed)) {
            const auto words = words_after_keyword(trimmed);
            if (!words.empty()) {
                current->kernel = kernel_of_image(words.front());
                std::string options;
                for (std::size_t i = 1; i < words.size(); ++i) {
                    options += (options.empty() ? "" : " ") + words[i];
                }
                current->options = options;
            }
        }
    }
    return entries;
}

BootLoader read_boot_loader(const probe::Host& files, int el) {
    BootLoader loader;
    if (el >= 8) {
        loader.kind = LoaderKind::bls;
        const auto dir = files.in_root(defaults::k_bls_entries);
        std::error_code ec;
        std::vector<fs::path> paths;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->path().extension() == ".conf") {
                paths.push_back(it->path());
            }
        }
        if (ec) {
            loader.error = dir.string() + ": " + ec.message();
            return loader;
        }
        std::sort(paths.begin(), paths.end());
        for (const auto& path : paths) {
            auto text = probe::read_text(path, 64 * 1024);
            if (!text.text) {
                loader.error = text.error;
                continue;
            }
            const std::string host_path =
                std::string(defaults::k_bls_entries) + "/" + path.filename().string();
            loader.entries.push_back(parse_bls_entry(*text.text, path.stem().string(), host_path));
        }
        return loader;
    }
    loader.kind = LoaderKind::grub_cfg;
    // EL7 on UEFI keeps the full grub.cfg on the ESP (/boot/efi/EFI/<vendor>/grub.cfg).
    std::string host_path(defaults::k_grub_cfg);
    std::error_code ec;
    if (fs::exists(files.in_sys("firmware/efi"), ec)) {
        for (fs::directory_iterator it(files.in_root("/boot/efi/EFI"), ec), end; !ec && it != end;
             it.increment(ec)) {
            if (fs::exists(it->path() / "grub.cfg", ec)) {
                host_path = "/boot/efi/EFI/" + it->path().filename().string() + "/grub.cfg";
                break;
            }
        }
    }
    loader.grub_cfg = host_path;
    auto text = probe::read_text(files.in_root(host_path), 4 * 1024 * 1024);
    if (!text.text) {
        loader.error = text.error;
        return loader;
    }
    loader.entries = parse_grub_cfg(*text.text, host_path);
    return loader;
}

util::Result<std::string> add_kernel_args(std::string_view text, LoaderKind kind, const BootEntry& entry,
                                          const std::vector<std::string>& args,
                                          std::vector<std::string>* added) {
    auto line = argument_line(text, kind, entry);
    if (!line) {
        return std::unexpected(line.error());
    }
    auto words = words_after_keyword(line->text);
    for (const auto& arg : args) {
        if (std::find(words.begin(), words.end(), arg) == words.end()) {
            words.push_back(arg);
            if (added != nullptr) {
                added->push_back(arg);
            }
        }
    }
    return replace_line(text, *line, rebuild(line->text, words));
}

util::Result<std::string> remove_kernel_args(std::string_view text, LoaderKind kind, const BootEntry& entry,
                                             const std::vector<std::string>& args) {
    auto line = argument_line(text, kind, entry);
    if (!line) {
        return std::unexpected(line.error());
    }
    auto words = words_after_keyword(line->text);
    for (const auto& arg : args) {
        // The trial appended its arguments, so the last occurrence is the one it added.
        if (auto it = std::find(words.rbegin(), words.rend(), arg); it != words.rend()) {
            words.erase(std::next(it).base());
        }
    }
    return replace_line(text, *line, rebuild(line->text, words));
}

} // namespace meshlink::agent::kernel
