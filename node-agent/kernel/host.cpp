#include "node-agent/kernel/host.hpp"

#include "node-agent/defaults.hpp"
#include "util/fd.hpp"
#include "util/subprocess.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace meshlink::agent::kernel {
namespace {

namespace fs = std::filesystem;

// stderr of a tool, captured in memory: dnf and rpm put their reasons there ("needs 80KB more space on
// the /boot filesystem"), and the caller words its message from them.
util::Result<util::Fd> memory_file() {
    util::Fd fd(::memfd_create("meshlink-stderr", MFD_CLOEXEC));
    if (!fd) {
        return util::fail(util::ErrorKind::io, std::string("memfd_create: ") + std::strerror(errno));
    }
    return fd;
}

std::string read_back(const util::Fd& fd) {
    std::string text;
    ::lseek(fd.get(), 0, SEEK_SET);
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || text.size() > (std::size_t{1} << 20)) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

std::string quote(const std::string& arg) {
    if (!arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?") == std::string::npos) {
        return arg;
    }
    std::string out = "'";
    for (char c : arg) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

util::Result<ToolOutput> run_program(const std::string& program, const std::vector<std::string>& args,
                                     const std::vector<std::string>& env, std::chrono::seconds timeout) {
    auto err = memory_file();
    if (!err) {
        return std::unexpected(err.error());
    }
    util::SubprocessSpec spec;
    spec.program = program;
    spec.args = args;
    spec.env = env;
    spec.stderr_fd = err->get();
    spec.timeout = timeout;
    ToolOutput output;
    output.command = quote(program);
    for (const auto& arg : args) {
        output.command += " " + quote(arg);
    }
    auto result = util::run_subprocess(spec);
    if (!result) {
        return std::unexpected(result.error().with_context(output.command));
    }
    output.exit_code = result->term_signal != 0 ? 128 + result->term_signal : result->exit_code;
    output.out = std::move(result->stdout_data);
    output.err = read_back(*err);
    return output;
}

// The shell pipeline behind Tool::extract: rpm2cpio and cpio exist wherever rpm does (dracut needs cpio).
constexpr const char* k_extract_script =
    "set -e; package=$1; directory=$2; shift 2; cd \"$directory\"; "
    "rpm2cpio \"$package\" | cpio -idm --quiet --no-absolute-filenames \"$@\"";

util::Result<Scratch> make_scratch(const fs::path& parent, const fs::path& prefix_here,
                                   const std::string& prefix_there) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string templ = (parent / "meshlink-kernel-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        return util::fail(util::ErrorKind::io,
                          "create a scratch directory in " + parent.string() + ": " + std::strerror(errno));
    }
    return Scratch(fs::path(templ), prefix_here, prefix_there);
}

class NsenterHost final : public Host {
public:
    explicit NsenterHost(probe::Host files) : m_files(std::move(files)) {}

    [[nodiscard]] const probe::Host& files() const override { return m_files; }
    [[nodiscard]] std::string_view mode() const override { return "nsenter"; }

    util::Result<ToolOutput> run(Tool tool, const std::vector<std::string>& args,
                                 std::chrono::seconds timeout) override {
        // PID 1's mount, UTS, IPC, network and PID namespaces: the host's filesystem, its repositories'
        // network and its systemd, as on the host's console.
        std::vector<std::string> argv{"--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--"};
        switch (tool) {
        case Tool::package_manager:
        case Tool::repository:
            argv.emplace_back("dnf");
            break;
        case Tool::rpm:
            argv.emplace_back("rpm");
            break;
        case Tool::rpmkeys:
            argv.emplace_back("rpmkeys");
            break;
        case Tool::grub_editenv:
            argv.emplace_back("grub2-editenv");
            break;
        case Tool::systemctl:
            argv.emplace_back("systemctl");
            break;
        case Tool::extract:
            argv.insert(argv.end(), {"sh", "-c", k_extract_script, "meshlink-extract"});
            break;
        }
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program("nsenter", argv, util::environment_with({"LC_ALL=C"}), timeout);
    }

    util::Result<Scratch> scratch() override {
        // Under the host's /var/tmp, reached as <root>/var/tmp from here and /var/tmp by the host's tools.
        const std::string there(defaults::k_kernel_scratch_parent);
        return make_scratch(m_files.in_root(there), m_files.in_root(there), there);
    }

private:
    probe::Host m_files;
};

class LocalHost final : public Host {
public:
    explicit LocalHost(probe::Host files) : m_files(std::move(files)) {}

    [[nodiscard]] const probe::Host& files() const override { return m_files; }
    [[nodiscard]] std::string_view mode() const override { return "local"; }

    util::Result<ToolOutput> run(Tool tool, const std::vector<std::string>& args,
                                 std::chrono::seconds timeout) override {
        auto env = environment();
        if (!env) {
            return std::unexpected(env.error());
        }
        const std::string root = m_files.root.string();
        std::vector<std::string> argv;
        std::string program;
        switch (tool) {
        case Tool::package_manager:
            program = "dnf";
            // The "local" plugin of dnf-plugins-core would copy every installed package into the root.
            argv = {"--installroot=" + root, "--disableplugin=local"};
            break;
        case Tool::repository:
            program = "dnf";
            argv = {"--disableplugin=local"};
            break;
        case Tool::rpm:
            program = "rpm";
            argv = {"--root=" + root};
            break;
        case Tool::rpmkeys:
            program = "rpmkeys";
            break;
        case Tool::grub_editenv: {
            program = "grub-editenv";
            std::vector<std::string> mapped = args;
            if (!mapped.empty()) {
                mapped.front() = m_files.in_root(mapped.front()).string();
            }
            return run_program(program, mapped, *env, timeout);
        }
        case Tool::systemctl: {
            // No systemd manages a fixture root; the unit files under it are the whole state.
            ToolOutput skipped;
            skipped.command = "systemctl (not run: --host-commands local)";
            return skipped;
        }
        case Tool::extract:
            program = "sh";
            argv = {"-c", k_extract_script, "meshlink-extract"};
            break;
        }
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(program, argv, *env, timeout);
    }

    util::Result<Scratch> scratch() override {
        const char* tmp = std::getenv("TMPDIR");
        const fs::path parent = tmp != nullptr && *tmp != '\0' ? fs::path(tmp) : fs::path("/tmp");
        return make_scratch(parent, "/", "/");
    }

private:
    // Debian's rpm keeps its database in ~/.rpmdb; EL's, and so every root this mode works on, in
    // /var/lib/rpm. A private HOME with that one macro points this machine's rpm and dnf at the root's.
    util::Result<std::vector<std::string>> environment() {
        if (!m_home) {
            auto home = make_scratch(std::getenv("TMPDIR") != nullptr ? fs::path(std::getenv("TMPDIR"))
                                                                      : fs::path("/tmp"),
                                     "/", "/");
            if (!home) {
                return std::unexpected(home.error());
            }
            m_home = std::make_unique<Scratch>(std::move(*home));
            std::FILE* macros = std::fopen((m_home->here() / ".rpmmacros").c_str(), "w");
            if (macros == nullptr) {
                return util::fail(util::ErrorKind::io, "write " + (m_home->here() / ".rpmmacros").string() +
                                                           ": " + std::strerror(errno));
            }
            std::fputs("%_dbpath /var/lib/rpm\n", macros);
            std::fclose(macros);
        }
        return util::environment_with({"HOME=" + m_home->here().string(), "LC_ALL=C"});
    }

    probe::Host m_files;
    std::unique_ptr<Scratch> m_home;
};

} // namespace

std::string_view to_string(Tool tool) {
    switch (tool) {
    case Tool::package_manager:
    case Tool::repository:
        return "dnf";
    case Tool::rpm:
        return "rpm";
    case Tool::rpmkeys:
        return "rpmkeys";
    case Tool::grub_editenv:
        return "grub2-editenv";
    case Tool::systemctl:
        return "systemctl";
    case Tool::extract:
        return "rpm2cpio";
    }
    return "tool";
}

std::string ToolOutput::tail(std::size_t lines) const {
    const std::string& text = err.find_first_not_of(" \n\t") != std::string::npos ? err : out;
    std::vector<std::string> kept;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.find_first_not_of(" \t\r") != std::string::npos) {
            kept.push_back(std::move(line));
        }
    }
    std::string result;
    for (std::size_t i = kept.size() > lines ? kept.size() - lines : 0; i < kept.size(); ++i) {
        result += (result.empty() ? "" : "; ") + kept[i];
    }
    return result.empty() ? fmt::format("exit code {}", exit_code) : result;
}

Scratch::Scratch(fs::path here, fs::path host_prefix_here, std::string host_prefix_there)
    : m_here(std::move(here)), m_prefix_here(std::move(host_prefix_here)),
      m_prefix_there(std::move(host_prefix_there)) {}

Scratch::Scratch(Scratch&& other) noexcept
    : m_here(std::exchange(other.m_here, {})), m_prefix_here(std::move(other.m_prefix_here)),
      m_prefix_there(std::move(other.m_prefix_there)) {}

Scratch::~Scratch() {
    if (!m_here.empty()) {
        std::error_code ec;
        fs::remove_all(m_here, ec);
    }
}

std::string Scratch::there(const fs::path& here_path) const {
    const fs::path relative = here_path.lexically_relative(m_prefix_here);
    return (fs::path(m_prefix_there) / relative).lexically_normal().string();
}

util::Result<std::unique_ptr<Host>> make_host(std::string_view mode, const probe::Host& given) {
    // Absolute paths: the tools run elsewhere (rpm --root insists on it) and scratch paths are mapped by
    // prefix.
    probe::Host files = given;
    std::error_code ec;
    for (fs::path* path : {&files.root, &files.proc, &files.sys}) {
        *path = fs::absolute(*path, ec).lexically_normal();
    }
    if (mode == "nsenter") {
        return std::unique_ptr<Host>(std::make_unique<NsenterHost>(files));
    }
    if (mode == "local") {
        return std::unique_ptr<Host>(std::make_unique<LocalHost>(files));
    }
    return util::fail(util::ErrorKind::usage,
                      fmt::format("unknown --host-commands \"{}\": use nsenter or local", mode));
}

} // namespace meshlink::agent::kernel
