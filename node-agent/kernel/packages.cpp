#include "node-agent/kernel/packages.hpp"

#include "node-agent/defaults.hpp"
#include "util/files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <system_error>

namespace meshlink::agent::kernel {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        lines.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return lines;
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t pos = 0;
    for (;;) {
        const auto next = text.find(separator, pos);
        parts.push_back(text.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
        if (next == std::string::npos) {
            return parts;
        }
        pos = next + 1;
    }
}

// Package metadata comes from a repository nobody here controls: only names rpm itself would accept go
// into a command line or a path.
bool safe_field(const std::string& text) {
    return !text.empty() && text.size() <= 128 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' ||
               c == '+' || c == '~' || c == '^';
    });
}

// dnf's options for reading the repository: a scratch install root (so the host's rpmdb, caches and repo
// files are not used or written), and the repository defined on the command line only.
std::vector<std::string> repository_options(const Scratch& scratch, const Repository& repo) {
    const std::string id(defaults::k_kernel_repo_id);
    return {"-q", "--installroot=" + scratch.there(scratch.here() / "root"),
            "--releasever=" + std::to_string(repo.el), "--setopt=reposdir=/nonexistent",
            "--repofrompath=" + id + "," + repo.url, "--repo=" + id,
            // Signatures are checked against the pinned keys by check_signatures, never with a gpgkey= URL.
            "--setopt=" + id + ".gpgcheck=0", "--setopt=" + id + ".metadata_expire=0"};
}

bool release_is_for(const std::string& release, int el) {
    const std::string tag = ".el" + std::to_string(el);
    for (auto pos = release.find(tag); pos != std::string::npos; pos = release.find(tag, pos + 1)) {
        const auto after = pos + tag.size();
        if (after == release.size() || release[after] == '.' || release[after] == '_') {
            return true;
        }
    }
    return false;
}

} // namespace

std::string Nevra::full() const {
    if (epoch.empty() || epoch == "0") {
        return fmt::format("{}-{}-{}.{}", name, version, release, arch);
    }
    return fmt::format("{}-{}:{}-{}.{}", name, epoch, version, release, arch);
}

std::string Nevra::kernel_release() const {
    return fmt::format("{}-{}.{}", version, release, arch);
}

int rpm_vercmp(std::string_view a, std::string_view b) {
    // rpm's rpmvercmp: compare alternating runs of digits and letters; '~' sorts before everything, '^' after
    // the end of a version but before any other addition.
    std::size_t i = 0;
    std::size_t j = 0;
    auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    while (i < a.size() || j < b.size()) {
        while (i < a.size() && !alnum(a[i]) && a[i] != '~' && a[i] != '^') {
            ++i;
        }
        while (j < b.size() && !alnum(b[j]) && b[j] != '~' && b[j] != '^') {
            ++j;
        }
        const bool a_tilde = i < a.size() && a[i] == '~';
        const bool b_tilde = j < b.size() && b[j] == '~';
        if (a_tilde || b_tilde) {
            if (!a_tilde) {
                return 1;
            }
            if (!b_tilde) {
                return -1;
            }
            ++i;
            ++j;
            continue;
        }
        const bool a_caret = i < a.size() && a[i] == '^';
        const bool b_caret = j < b.size() && b[j] == '^';
        if (a_caret || b_caret) {
            if (i >= a.size()) {
                return -1;
            }
            if (j >= b.size()) {
                return 1;
            }
            if (!a_caret) {
                return 1;
            }
            if (!b_caret) {
                return -1;
            }
            ++i;
            ++j;
            continue;
        }
        if (i >= a.size() || j >= b.size()) {
            break;
        }
        const bool numeric = digit(a[i]);
        std::size_t ie = i;
        std::size_t je = j;
        while (ie < a.size() &&
               (numeric ? digit(a[ie]) : std::isalpha(static_cast<unsigned char>(a[ie])) != 0)) {
            ++ie;
        }
        while (je < b.size() &&
               (numeric ? digit(b[je]) : std::isalpha(static_cast<unsigned char>(b[je])) != 0)) {
            ++je;
        }
        if (je == j) {
            return numeric ? 1 : -1; // numeric segments are newer than alphabetic ones
        }
        std::string_view sa = a.substr(i, ie - i);
        std::string_view sb = b.substr(j, je - j);
        if (numeric) {
            while (sa.size() > 1 && sa.front() == '0') {
                sa.remove_prefix(1);
            }
            while (sb.size() > 1 && sb.front() == '0') {
                sb.remove_prefix(1);
            }
            if (sa.size() != sb.size()) {
                return sa.size() < sb.size() ? -1 : 1;
            }
        }
        if (const int c = sa.compare(sb); c != 0) {
            return c < 0 ? -1 : 1;
        }
        i = ie;
        j = je;
    }
    if (i >= a.size() && j >= b.size()) {
        return 0;
    }
    return i >= a.size() ? -1 : 1;
}

std::vector<std::string> package_names(std::string_view flavor, int el) {
    const std::string base = "kernel-" + std::string(flavor);
    if (el <= 7) {
        return {base};
    }
    return {base, base + "-core", base + "-modules"};
}

util::Result<std::vector<Nevra>> query_repository(Host& host, const Scratch& scratch, const Repository& repo,
                                                  const std::vector<std::string>& names) {
    auto args = repository_options(scratch, repo);
    args.insert(args.end(), {"repoquery", "--qf", "%{name}|%{epoch}|%{version}|%{release}|%{arch}"});
    args.insert(args.end(), names.begin(), names.end());
    auto output = host.run(Tool::repository, args, defaults::k_tool_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("cannot read the repository {}: {}", repo.url, output->tail()));
    }
    std::vector<Nevra> found;
    for (const auto& line : lines_of(output->out)) {
        const auto parts = split(line, '|');
        if (parts.size() != 5) {
            continue;
        }
        Nevra nevra{parts[0], parts[1], parts[2], parts[3], parts[4]};
        if (std::all_of(parts.begin(), parts.end(), safe_field)) {
            found.push_back(std::move(nevra));
        }
    }
    return found;
}

util::Result<Candidate> choose_candidate(const std::vector<Nevra>& available,
                                         const std::vector<std::string>& names, int el,
                                         const std::string& arch, const std::optional<std::string>& version) {
    // Group by version-release.arch; a set is complete when every name is there.
    std::map<std::string, Candidate> sets;
    std::set<std::string> offered;
    for (const auto& nevra : available) {
        if (std::find(names.begin(), names.end(), nevra.name) == names.end()) {
            continue;
        }
        offered.insert(nevra.kernel_release());
        if (!release_is_for(nevra.release, el) || (!arch.empty() && nevra.arch != arch)) {
            continue;
        }
        auto& set = sets[nevra.kernel_release()];
        set.version = nevra.version;
        set.release = nevra.release;
        set.arch = nevra.arch;
        if (std::none_of(set.packages.begin(), set.packages.end(),
                         [&](const Nevra& have) { return have.name == nevra.name; })) {
            set.packages.push_back(nevra);
        }
    }
    const Candidate* best = nullptr;
    for (const auto& [key, set] : sets) {
        if (set.packages.size() != names.size()) {
            continue;
        }
        if (version && *version != set.version && *version != set.version + "-" + set.release) {
            continue;
        }
        if (best == nullptr || rpm_vercmp(set.version, best->version) > 0 ||
            (rpm_vercmp(set.version, best->version) == 0 && rpm_vercmp(set.release, best->release) > 0)) {
            best = &set;
        }
    }
    if (best == nullptr) {
        return util::fail(util::ErrorKind::not_found,
                          fmt::format("no complete {} set{} for EL{} {} in the repository (it offers: {})",
                                      fmt::join(names, "/"),
                                      version ? " of version " + *version : std::string(), el,
                                      arch.empty() ? std::string("(any arch)") : arch,
                                      offered.empty() ? std::string("nothing")
                                                      : fmt::format("{}", fmt::join(offered, ", "))));
    }
    Candidate chosen = *best;
    // Install order does not matter to dnf, but a stable order keeps records and messages comparable.
    std::sort(chosen.packages.begin(), chosen.packages.end(),
              [](const Nevra& a, const Nevra& b) { return a.name < b.name; });
    return chosen;
}

util::Result<std::vector<fs::path>> download(Host& host, const Scratch& scratch, const Repository& repo,
                                             const std::vector<Nevra>& packages) {
    const fs::path dir = scratch.here() / "packages";
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto args = repository_options(scratch, repo);
    args.insert(args.end(), {"download", "--destdir=" + scratch.there(dir)});
    for (const auto& nevra : packages) {
        args.push_back(nevra.full());
    }
    auto output = host.run(Tool::repository, args, defaults::k_package_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::unavailable,
                          fmt::format("downloading {} from {}: {}", packages.front().kernel_release(),
                                      repo.url, output->tail()));
    }
    std::vector<fs::path> files;
    for (const auto& nevra : packages) {
        const fs::path file = dir / (nevra.full() + ".rpm");
        if (!fs::is_regular_file(file, ec)) {
            return util::fail(util::ErrorKind::not_found,
                              fmt::format("dnf download did not produce {}", file.filename().string()));
        }
        files.push_back(file);
    }
    return files;
}

util::Result<std::vector<SignatureCheck>> check_signatures(Host& host, const Scratch& scratch,
                                                           const std::vector<KeySource>& keys,
                                                           const std::vector<PublicKey>& trusted,
                                                           const std::vector<fs::path>& packages) {
    const fs::path keyring = scratch.here() / "keyring";
    std::error_code ec;
    fs::create_directories(keyring, ec);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const fs::path file = scratch.here() / fmt::format("trusted-{}.asc", i);
        if (auto written = util::write_file_atomically(file, keys[i].text); !written) {
            return std::unexpected(written.error());
        }
        auto imported =
            host.run(Tool::rpmkeys, {"--dbpath", scratch.there(keyring), "--import", scratch.there(file)},
                     defaults::k_tool_timeout);
        if (!imported) {
            return std::unexpected(imported.error());
        }
        if (!imported->ok()) {
            return util::fail(util::ErrorKind::generic, fmt::format("{} into a private keyring: {}",
                                                                    imported->command, imported->tail()));
        }
    }
    std::vector<SignatureCheck> checks;
    for (const auto& package : packages) {
        // _pkgverify_level signature: without it rpmkeys accepts an unsigned package whose digests are fine.
        auto output = host.run(Tool::rpmkeys,
                               {"--dbpath", scratch.there(keyring), "--define", "_pkgverify_level signature",
                                "--checksig", "-v", scratch.there(package)},
                               defaults::k_tool_timeout);
        if (!output) {
            return std::unexpected(output.error());
        }
        SignatureCheck check;
        check.package = package.filename().string();
        std::string signer;
        std::vector<std::string> problems;
        for (const auto& line : lines_of(output->out + "\n" + output->err)) {
            const auto trimmed = std::string(probe::trim(line));
            const auto id_at = trimmed.find("key ID ");
            if (trimmed.find("Signature") != std::string::npos && id_at != std::string::npos &&
                trimmed.size() > 4 && trimmed.substr(trimmed.size() - 4) == ": OK") {
                const auto id = trimmed.substr(id_at + 7, trimmed.size() - 4 - (id_at + 7));
                for (const auto& key : trusted) {
                    if (key.short_id() == id) {
                        signer = id;
                    }
                }
            }
            for (const char* bad : {"NOKEY", "BAD", "NOTTRUSTED", "NOTFOUND"}) {
                const std::string_view word(bad);
                if (trimmed.size() > word.size() && trimmed.substr(trimmed.size() - word.size()) == word &&
                    !(word == "NOTFOUND" && !signer.empty())) {
                    problems.push_back(trimmed);
                }
            }
        }
        // rpm lists the absent kinds of signature as NOTFOUND next to the one that is there; only a package
        // without any good signature by a trusted key fails.
        check.ok = output->ok() && !signer.empty();
        if (check.ok) {
            check.detail = "signed by trusted key " + signer;
        } else if (!problems.empty()) {
            check.detail = problems.front();
            for (const auto& problem : problems) {
                if (problem.find("NOKEY") != std::string::npos) {
                    check.detail = problem + " (signed by a key that is not trusted)";
                }
            }
            if (check.detail.find("NOKEY") == std::string::npos) {
                check.detail = "not signed (" + check.detail + ")";
            }
        } else {
            check.detail = output->tail();
        }
        checks.push_back(std::move(check));
    }
    return checks;
}

util::Result<std::string> extract_config(Host& host, const Scratch& scratch, const fs::path& package,
                                         const std::string& kernel_release) {
    const fs::path dir = scratch.here() / "extract" / package.stem();
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string modules_config = "./lib/modules/" + kernel_release + "/config";
    const std::string boot_config = "./boot/config-" + kernel_release;
    auto output =
        host.run(Tool::extract, {scratch.there(package), scratch.there(dir), modules_config, boot_config},
                 defaults::k_tool_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::generic, fmt::format("extracting the kernel config from {}: {}",
                                                                package.filename().string(), output->tail()));
    }
    for (const auto& candidate : {modules_config, boot_config}) {
        auto text = probe::read_text(dir / candidate, 8 * 1024 * 1024);
        if (text.text) {
            return *text.text;
        }
    }
    return util::fail(util::ErrorKind::not_found,
                      fmt::format("{} has no {} or {}", package.filename().string(), modules_config.substr(1),
                                  boot_config.substr(1)));
}

util::Result<std::optional<std::string>> transaction_test(Host& host, const Scratch& scratch,
                                                          const std::vector<fs::path>& packages) {
    std::vector<std::string> args{"--test", "-i", "--nodeps"};
    for (const auto& package : packages) {
        args.push_back(scratch.there(package));
    }
    auto output = host.run(Tool::rpm, args, defaults::k_package_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (output->ok()) {
        return std::optional<std::string>();
    }
    std::vector<std::string> problems;
    for (const auto& line : lines_of(output->err + "\n" + output->out)) {
        // rpm indents each transaction problem with a tab.
        if (!line.empty() && line.front() == '\t') {
            problems.emplace_back(probe::trim(line));
        }
    }
    return std::optional<std::string>(problems.empty() ? output->tail()
                                                       : fmt::format("{}", fmt::join(problems, "; ")));
}

bool InstalledPackage::signed_by_any(const std::vector<PublicKey>& keys) const {
    constexpr std::string_view k_marker = "Key ID ";
    const auto at = signature.rfind(k_marker);
    if (at == std::string::npos) {
        return false;
    }
    std::string id = signature.substr(at + k_marker.size());
    id = std::string(probe::trim(id));
    for (auto& c : id) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (const auto& key : keys) {
        if (id.size() == 16 && key.fingerprint.size() == 40 && key.fingerprint.substr(24) == id) {
            return true;
        }
        for (const auto& sub : key.subkey_fingerprints) {
            if (id.size() == 16 && sub.substr(24) == id) {
                return true;
            }
        }
    }
    return false;
}

std::vector<std::string> full_names(const std::vector<Nevra>& packages) {
    std::vector<std::string> names;
    for (const auto& nevra : packages) {
        names.push_back(nevra.full());
    }
    return names;
}

util::Result<std::map<std::string, InstalledPackage>>
query_installed(Host& host, const std::vector<std::string>& nevras) {
    std::vector<std::string> args{
        "-q", "--qf",
        "%{NAME}|%{EPOCHNUM}|%{VERSION}|%{RELEASE}|%{ARCH}|%{RSAHEADER:pgpsig}|%{DSAHEADER:pgpsig}\\n"};
    args.insert(args.end(), nevras.begin(), nevras.end());
    auto output = host.run(Tool::rpm, args, defaults::k_tool_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    std::map<std::string, InstalledPackage> installed;
    for (const auto& line : lines_of(output->out)) {
        const auto parts = split(line, '|');
        if (parts.size() != 7) {
            continue; // "package X is not installed"
        }
        Nevra nevra{parts[0], parts[1], parts[2], parts[3], parts[4]};
        InstalledPackage package;
        package.nevra = nevra.full();
        package.signature = parts[5] != "(none)" ? parts[5] : parts[6];
        installed[package.nevra] = std::move(package);
    }
    if (!output->ok() && installed.empty() && output->out.find("is not installed") == std::string::npos) {
        return util::fail(util::ErrorKind::generic, fmt::format("{}: {}", output->command, output->tail()));
    }
    return installed;
}

util::Result<std::vector<std::string>> installed_keys(Host& host) {
    auto output = host.run(Tool::rpm, {"-q", "gpg-pubkey", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\\n"},
                           defaults::k_tool_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    std::vector<std::string> keys;
    for (const auto& line : lines_of(output->out)) {
        if (line.rfind("gpg-pubkey-", 0) == 0) {
            keys.push_back(line);
        }
    }
    if (!output->ok() && keys.empty() && output->out.find("is not installed") == std::string::npos) {
        return util::fail(util::ErrorKind::generic, fmt::format("{}: {}", output->command, output->tail()));
    }
    return keys;
}

util::Result<> import_key(Host& host, const Scratch& scratch, const KeySource& key) {
    const fs::path file = scratch.here() / "import.asc";
    if (auto written = util::write_file_atomically(file, key.text); !written) {
        return written;
    }
    auto output = host.run(Tool::rpm, {"--import", scratch.there(file)}, defaults::k_tool_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::generic,
                          fmt::format("rpm --import of {}: {}", key.name, output->tail()));
    }
    return {};
}

util::Result<> install(Host& host, const Scratch& scratch, const std::vector<fs::path>& packages) {
    std::vector<std::string> args{"-y", "--setopt=gpgcheck=1", "--setopt=localpkg_gpgcheck=1", "install"};
    for (const auto& package : packages) {
        args.push_back(scratch.there(package));
    }
    auto output = host.run(Tool::package_manager, args, defaults::k_package_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::generic, fmt::format("dnf install failed: {}", output->tail(6)));
    }
    return {};
}

util::Result<> remove(Host& host, const std::vector<std::string>& nevras) {
    std::vector<std::string> args{"-y", "remove"};
    args.insert(args.end(), nevras.begin(), nevras.end());
    auto output = host.run(Tool::package_manager, args, defaults::k_package_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::generic, fmt::format("dnf remove failed: {}", output->tail(6)));
    }
    return {};
}

} // namespace meshlink::agent::kernel
