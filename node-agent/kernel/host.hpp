#pragma once
// The node as the kernel upgrade sees it: its files (always read and written under --root, --proc, --sys)
// and its tools (dnf, rpm, rpmkeys, grub2-editenv, systemctl). Two implementations, chosen by
// `--host-commands`:
//  - nsenter: the host's own tools, run in PID 1's namespaces (the agent runs in a privileged pod with
//    hostPID and the host's / mounted at --root). What dnf and rpm do is then exactly what they would do on
//    the host's console, scriptlets and kernel-install included.
//  - local: this machine's tools pointed at --root (dnf --installroot, rpm --root, grub-editenv on the
//    grubenv under --root). Tests and dry runs use it on fixture roots; no systemd is driven.

#include "probe/host.hpp"
#include "util/error.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::agent::kernel {

enum class Tool {
    package_manager, // dnf acting on the host's rpmdb (install, remove); local adds --installroot=<root>
    repository,      // dnf reading a repository into a scratch install root; never touches the host's rpmdb
    rpm,             // rpm on the host's rpmdb; local adds --root=<root>
    rpmkeys,         // rpmkeys on a private --dbpath the caller names
    grub_editenv,    // grub2-editenv; the first argument is the grubenv as a host path
    systemctl,       // systemctl of the host's systemd; local: not run (a fixture root has no systemd)
    extract,         // copy files out of a package: arguments package, directory, pattern...
};

// "dnf", "rpm", ...: how messages name a tool.
std::string_view to_string(Tool tool);

struct ToolOutput {
    int exit_code = 0; // 128 + signal when the tool was killed
    std::string out;
    std::string err;
    std::string command; // the command line as run, for messages

    [[nodiscard]] bool ok() const { return exit_code == 0; }
    // The last non-empty lines of stderr (else stdout), for an error message.
    [[nodiscard]] std::string tail(std::size_t lines = 4) const;
};

// A private directory for downloads and keyrings, removed with its owner. `here` is its path for this
// process, `there(p)` the same place as the host's tools see it.
class Scratch {
public:
    Scratch(std::filesystem::path here, std::filesystem::path host_prefix_here,
            std::string host_prefix_there);
    Scratch(Scratch&& other) noexcept;
    Scratch& operator=(Scratch&&) = delete;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch();

    [[nodiscard]] const std::filesystem::path& here() const { return m_here; }
    [[nodiscard]] std::string there(const std::filesystem::path& here_path) const;

private:
    std::filesystem::path m_here;
    std::filesystem::path m_prefix_here;
    std::string m_prefix_there;
};

class Host {
public:
    virtual ~Host() = default;

    // Where the host's files are (root, proc, sys).
    [[nodiscard]] virtual const probe::Host& files() const = 0;
    // "nsenter" or "local".
    [[nodiscard]] virtual std::string_view mode() const = 0;
    // Runs a host tool to completion. A non-zero exit is not an error here (the caller words it); errors are
    // a tool that cannot be started or runs past `timeout`.
    virtual util::Result<ToolOutput> run(Tool tool, const std::vector<std::string>& args,
                                         std::chrono::seconds timeout) = 0;
    // A new private directory both this process and the host's tools can reach.
    virtual util::Result<Scratch> scratch() = 0;
};

// `mode` is "nsenter" or "local" (anything else: a usage error for the caller to report).
util::Result<std::unique_ptr<Host>> make_host(std::string_view mode, const probe::Host& files);

} // namespace meshlink::agent::kernel
