#pragma once
// The kernel upgrade's integration tests: the real meshlink-agent with --host-commands local, on fixture
// roots made by make-root.sh, against package repositories made by make-repos.sh with real rpmbuild, gpg,
// rpmsign and createrepo_c (built once per test binary and shared by every case).

#include "tests/integration/support/fakekube_process.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace meshlink::test::kernel {

struct Repos {
    std::filesystem::path dir; // make-repos.sh's output
    std::string trusted_key;   // path of the operator's re-signing key (armored)
    std::string trusted_fpr;   // its fingerprint, as gpg printed it
    std::string other_key;     // another key
    std::string other_fpr;
    [[nodiscard]] std::string url(const std::string& repo) const {
        return "file://" + (dir / "repos" / repo).string();
    }
};

// Built on first use; a failure to build fails the calling test with the script's output.
const Repos& repos();

// Tools the tests need, or the first that is missing.
std::string missing_tool();

// A fixture root of EL `el` with make-root.sh's variations, in a fresh temporary directory.
class Root {
public:
    Root(int el, const std::vector<std::string>& variations = {}, bool mount_small_boot = false);
    ~Root();
    Root(const Root&) = delete;
    Root& operator=(const Root&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return m_root; }
    // --root/--proc/--sys/--host-commands local for this root.
    [[nodiscard]] std::vector<std::string> host_flags() const;
    // The operator-key flags for the fixture repository `repo` (trusted test key).
    [[nodiscard]] std::vector<std::string> repo_flags(const std::string& repo = "good") const;

    // Runs `meshlink-agent kernel <args...>` (PATH optionally prefixed).
    [[nodiscard]] CommandResult agent(const std::vector<std::string>& args,
                                      const std::string& path_prefix = {}) const;
    // The same with -o json appended; the document parsed (null when the output is not JSON).
    [[nodiscard]] nlohmann::json agent_json(const std::vector<std::string>& args, int* exit_code,
                                            const std::string& path_prefix = {}) const;

    // grub-editenv <root>/boot/grub2/grubenv list, as a map.
    [[nodiscard]] std::map<std::string, std::string> grubenv() const;
    // rpm --root <root> -q --qf ... kernel-ml*: installed NEVRAs with their install time.
    [[nodiscard]] std::map<std::string, std::string> kernel_packages() const;
    [[nodiscard]] std::string read(const std::string& host_path) const;
    [[nodiscard]] bool exists(const std::string& host_path) const;
    // Every file, directory and symlink under the root with its type, mode and content (or target).
    [[nodiscard]] std::map<std::string, std::string> digest() const;

    // What a reboot does: a new boot_id, `release` running, GRUB consumed next_entry; `btf` adds
    // /sys/kernel/btf/vmlinux. A second reboot needs another `boot_id`.
    void reboot_into(const std::string& release, bool btf,
                     const std::string& boot_id = "22222222-3333-4444-8555-666666666666") const;

private:
    std::filesystem::path m_dir;
    std::filesystem::path m_root;
    bool m_mounted = false;
};

// Differences between two digests, one line per path ("" when equal).
std::string digest_diff(const std::map<std::string, std::string>& before,
                        const std::map<std::string, std::string>& after);

// Runs a command (argv[0] on PATH) and returns its result; fails the test when it cannot start.
CommandResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env_overrides = {});

// The ids of checks with status fail or unknown in a plan document.
std::vector<std::string> refusals(const nlohmann::json& plan);

} // namespace meshlink::test::kernel
