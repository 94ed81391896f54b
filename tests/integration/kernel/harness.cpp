#include "tests/integration/kernel/harness.hpp"

#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>

namespace meshlink::test::kernel {
namespace {

namespace fs = std::filesystem;

fs::path source_dir() {
    return fs::path(MESHLINK_SOURCE_DIR) / "tests" / "integration" / "kernel";
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

fs::path make_temp(const char* name) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = (fs::path(tmp != nullptr ? tmp : "/tmp") / (std::string(name) + "-XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) {
        BOOST_FAIL("mkdtemp " << templ << ": " << std::strerror(errno));
    }
    return templ;
}

// Removes the shared temporary directories when the test binary exits.
struct Cleanup {
    std::vector<fs::path> dirs;
    ~Cleanup() {
        for (const auto& dir : dirs) {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    }
};

Cleanup& cleanup() {
    static Cleanup instance;
    return instance;
}

// A private HOME whose .rpmmacros points Debian's rpm at the root's /var/lib/rpm (as the agent's local mode
// does).
const std::string& rpm_home() {
    static const std::string home = [] {
        const fs::path dir = make_temp("meshlink-kernel-home");
        cleanup().dirs.push_back(dir);
        std::ofstream(dir / ".rpmmacros") << "%_dbpath /var/lib/rpm\n";
        return dir.string();
    }();
    return home;
}

} // namespace

CommandResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env_overrides) {
    auto result = run_command(argv, environment_with(env_overrides), std::chrono::seconds(300));
    if (!result) {
        BOOST_FAIL("cannot run " << argv.front() << ": " << result.error().message);
    }
    return *result;
}

std::string missing_tool() {
    for (const char* tool : {"rpm", "rpmbuild", "rpmsign", "rpmkeys", "rpm2cpio", "cpio", "dnf",
                             "createrepo_c", "gpg", "grub-editenv"}) {
        if (!util::find_executable(tool)) {
            return tool;
        }
    }
    if (run({"dnf", "download", "--help"}).exit_code != 0) {
        return "dnf download (dnf-plugins-core)";
    }
    return {};
}

const Repos& repos() {
    static Repos built;
    static std::once_flag once;
    static std::string failure;
    std::call_once(once, [] {
        built.dir = make_temp("meshlink-kernel-repos");
        cleanup().dirs.push_back(built.dir);
        auto result = run({(source_dir() / "make-repos.sh").string(), built.dir.string()});
        if (result.exit_code != 0) {
            failure = "make-repos.sh failed: " + result.err + result.out;
            return;
        }
        built.trusted_key = (built.dir / "keys" / "trusted.asc").string();
        built.trusted_fpr = trimmed(slurp(built.dir / "keys" / "trusted.fpr"));
        built.other_key = (built.dir / "keys" / "other.asc").string();
        built.other_fpr = trimmed(slurp(built.dir / "keys" / "other.fpr"));
    });
    if (!failure.empty()) {
        BOOST_FAIL(failure);
    }
    return built;
}

Root::Root(int el, const std::vector<std::string>& variations, bool mount_small_boot) {
    m_dir = make_temp("meshlink-kernel-root");
    m_root = m_dir / "root";
    fs::create_directories(m_root / "boot");
    if (mount_small_boot) {
        // 256 KiB: room for the running kernel's files, not for the candidate's 256 KiB vmlinuz.
        if (::mount("tmpfs", (m_root / "boot").c_str(), "tmpfs", 0, "size=256k,mode=0755") != 0) {
            BOOST_FAIL("mount tmpfs on " << (m_root / "boot") << ": " << std::strerror(errno));
        }
        m_mounted = true;
    }
    std::vector<std::string> argv{(source_dir() / "make-root.sh").string(), m_root.string(),
                                  std::to_string(el)};
    argv.insert(argv.end(), variations.begin(), variations.end());
    auto result = run(argv);
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "make-root.sh: " << result.err);
}

Root::~Root() {
    if (m_mounted) {
        ::umount2((m_root / "boot").c_str(), MNT_DETACH);
    }
    std::error_code ec;
    fs::remove_all(m_dir, ec);
}

std::vector<std::string> Root::host_flags() const {
    return {"--root", m_root.string(),           "--proc",          (m_root / "proc").string(),
            "--sys",  (m_root / "sys").string(), "--host-commands", "local"};
}

std::vector<std::string> Root::repo_flags(const std::string& repo) const {
    const auto& r = repos();
    return {"--repo-url", r.url(repo), "--repo-key", r.trusted_key, "--repo-key-fingerprint", r.trusted_fpr};
}

CommandResult Root::agent(const std::vector<std::string>& args, const std::string& path_prefix) const {
    std::vector<std::string> argv{(bin_dir() / "meshlink-agent").string(), "kernel"};
    argv.insert(argv.end(), args.begin(), args.end());
    // The agent's scratch directories go next to the root, so that a killed agent's are removed with it.
    fs::create_directories(m_dir / "tmp");
    std::vector<std::string> env{"NO_COLOR=1", "NODE_NAME=node-under-test",
                                 "TMPDIR=" + (m_dir / "tmp").string()};
    if (!path_prefix.empty()) {
        const char* path = std::getenv("PATH");
        env.push_back("PATH=" + path_prefix + ":" + (path != nullptr ? path : "/usr/bin:/bin"));
    }
    return run(argv, env);
}

nlohmann::json Root::agent_json(const std::vector<std::string>& args, int* exit_code,
                                const std::string& path_prefix) const {
    auto all = args;
    all.insert(all.end(), {"-o", "json"});
    auto result = agent(all, path_prefix);
    if (exit_code != nullptr) {
        *exit_code = result.exit_code;
    }
    auto doc = nlohmann::json::parse(result.out, nullptr, false);
    BOOST_TEST_MESSAGE("agent kernel " << args.front() << " exit " << result.exit_code
                                       << " stderr: " << result.err);
    return doc.is_discarded() ? nlohmann::json(nullptr) : doc;
}

std::map<std::string, std::string> Root::grubenv() const {
    auto result = run({"grub-editenv", (m_root / "boot/grub2/grubenv").string(), "list"});
    std::map<std::string, std::string> values;
    std::istringstream in(result.out);
    for (std::string line; std::getline(in, line);) {
        if (const auto eq = line.find('='); eq != std::string::npos) {
            values[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    return values;
}

std::map<std::string, std::string> Root::kernel_packages() const {
    auto result = run({"rpm", "--root", m_root.string(), "-qa", "--qf",
                       "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH} %{INSTALLTIME}\\n"},
                      {"HOME=" + rpm_home()});
    std::map<std::string, std::string> packages;
    std::istringstream in(result.out);
    for (std::string line; std::getline(in, line);) {
        const auto space = line.find(' ');
        if (line.rfind("kernel-", 0) == 0 && space != std::string::npos) {
            packages[line.substr(0, space)] = line.substr(space + 1);
        }
    }
    return packages;
}

std::string Root::read(const std::string& host_path) const {
    return slurp(m_root / fs::path(host_path).relative_path());
}

bool Root::exists(const std::string& host_path) const {
    std::error_code ec;
    const auto path = m_root / fs::path(host_path).relative_path();
    return fs::exists(path, ec) || fs::is_symlink(path, ec);
}

std::map<std::string, std::string> Root::digest() const {
    std::map<std::string, std::string> entries;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(m_root, fs::directory_options::none, ec), end; !ec && it != end;
         it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) {
            continue;
        }
        const std::string rel = it->path().lexically_relative(m_root).string();
        std::string what = fmt::format("mode {:o} ", st.st_mode);
        if (S_ISLNK(st.st_mode)) {
            what += "-> " + fs::read_symlink(it->path(), ec).string();
        } else if (S_ISREG(st.st_mode)) {
            what += "content " + std::to_string(std::hash<std::string>{}(slurp(it->path()))) + " size " +
                    std::to_string(st.st_size);
        }
        entries[rel] = what;
    }
    return entries;
}

void Root::reboot_into(const std::string& release, bool btf, const std::string& boot_id) const {
    std::ofstream(m_root / "proc/sys/kernel/osrelease") << release << "\n";
    std::ofstream(m_root / "proc/sys/kernel/random/boot_id") << boot_id << "\n";
    std::ofstream(m_root / "proc/cmdline") << "BOOT_IMAGE=(hd0,msdos1)/vmlinuz-" << release << " ro\n";
    // GRUB's 00_header clears next_entry (save_env) before it boots anything.
    run({"grub-editenv", (m_root / "boot/grub2/grubenv").string(), "unset", "next_entry"});
    if (btf) {
        fs::create_directories(m_root / "sys/kernel/btf");
        std::ofstream(m_root / "sys/kernel/btf/vmlinux") << "BTF";
    }
}

std::string digest_diff(const std::map<std::string, std::string>& before,
                        const std::map<std::string, std::string>& after) {
    std::string diff;
    for (const auto& [path, what] : before) {
        auto it = after.find(path);
        if (it == after.end()) {
            diff += "removed " + path + "\n";
        } else if (it->second != what) {
            diff += "changed " + path + "\n";
        }
    }
    for (const auto& [path, what] : after) {
        if (before.find(path) == before.end()) {
            diff += "added " + path + "\n";
        }
    }
    return diff;
}

std::vector<std::string> refusals(const nlohmann::json& plan) {
    std::vector<std::string> ids;
    if (!plan.is_object() || !plan.contains("checks")) {
        return ids;
    }
    for (const auto& check : plan["checks"]) {
        if (check["status"] == "fail" || check["status"] == "unknown") {
            ids.push_back(check["id"].get<std::string>());
        }
    }
    return ids;
}

} // namespace meshlink::test::kernel
