#pragma once
// The kernel packages: what a repository offers, the download, the signature check against the pinned keys
// only, the candidate's kernel config, rpm's transaction test (space on /boot, conflicts), and the install
// and removal of exact NEVRAs through the host's dnf.

#include "node-agent/kernel/host.hpp"
#include "node-agent/kernel/keys.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::agent::kernel {

struct Nevra {
    std::string name;
    std::string epoch; // "0" when none
    std::string version;
    std::string release;
    std::string arch;

    // "kernel-ml-core-7.1.9-1.el9.elrepo.x86_64" ("name-E:V-R.A" for a non-zero epoch): what dnf and rpm
    // take to mean exactly this package.
    [[nodiscard]] std::string full() const;
    // "7.1.9-1.el9.elrepo.x86_64": the kernel release (`uname -r`) it installs.
    [[nodiscard]] std::string kernel_release() const;
};

// rpm's version comparison (rpmvercmp): <0, 0, >0.
int rpm_vercmp(std::string_view a, std::string_view b);

// kernel-ml, kernel-ml-core, kernel-ml-modules (lt: kernel-lt-...); EL7 kernels are one package.
std::vector<std::string> package_names(std::string_view flavor, int el);

struct Repository {
    std::string url; // baseurl (file://, http://, https://), $basearch allowed
    int el = 0;      // --releasever
};

struct Candidate {
    std::string version; // "7.1.9"
    std::string release; // "1.el9.elrepo"
    std::string arch;    // "x86_64"
    std::vector<Nevra> packages;

    [[nodiscard]] std::string kernel_release() const { return version + "-" + release + "." + arch; }
};

// Every package of `names` the repository offers (read into a scratch install root: the host's rpmdb and
// repositories are not involved).
util::Result<std::vector<Nevra>> query_repository(Host& host, const Scratch& scratch, const Repository& repo,
                                                  const std::vector<std::string>& names);

// The newest complete set (every name, one version-release-arch) built for this EL release (".elN" in the
// release) and architecture; with `version`, the set of that version ("7.1.9") or version-release. The
// error (not_found) lists what the repository has.
util::Result<Candidate> choose_candidate(const std::vector<Nevra>& available,
                                         const std::vector<std::string>& names, int el,
                                         const std::string& arch, const std::optional<std::string>& version);

// Downloads exactly the candidate's packages into the scratch directory; returns their paths (here).
util::Result<std::vector<std::filesystem::path>>
download(Host& host, const Scratch& scratch, const Repository& repo, const std::vector<Nevra>& packages);

struct SignatureCheck {
    std::string package; // file name
    bool ok = false;
    std::string detail; // "signed by key 1615eb66" or what rpmkeys said
};

// Checks every package with rpmkeys against a private keyring that holds only `keys` (so a signature by any
// other key is NOKEY), and requires a signature (an unsigned package fails even with good digests).
util::Result<std::vector<SignatureCheck>>
check_signatures(Host& host, const Scratch& scratch, const std::vector<KeySource>& keys,
                 const std::vector<PublicKey>& trusted, const std::vector<std::filesystem::path>& packages);

// The kernel config a package carries for `kernel_release` (/lib/modules/R/config, EL7: /boot/config-R);
// not_found when the package has none.
util::Result<std::string> extract_config(Host& host, const Scratch& scratch,
                                         const std::filesystem::path& package,
                                         const std::string& kernel_release);

// rpm's transaction test of installing `packages` on the host (dependencies left to dnf): nullopt when it
// would succeed, else rpm's problems ("installing package X needs 80KB more space on the /boot filesystem").
util::Result<std::optional<std::string>> transaction_test(Host& host, const Scratch& scratch,
                                                          const std::vector<std::filesystem::path>& packages);

struct InstalledPackage {
    std::string nevra;
    std::string
        signature; // rpm's pgpsig text: "RSA/SHA256, <date>, Key ID 51600989eaa31d4a"; "(none)" if unsigned
    // True when the installed header was signed by one of `keys`.
    [[nodiscard]] bool signed_by_any(const std::vector<PublicKey>& keys) const;
};

// Which of `nevras` (Nevra::full() strings) are installed on the host, keyed the same way.
util::Result<std::map<std::string, InstalledPackage>> query_installed(Host& host,
                                                                      const std::vector<std::string>& nevras);

// The full() strings of `packages`.
std::vector<std::string> full_names(const std::vector<Nevra>& packages);

// The gpg-pubkey packages in the host's rpmdb ("gpg-pubkey-eaa31d4a-677ad425").
util::Result<std::vector<std::string>> installed_keys(Host& host);

// rpm --import of one key file (already verified by fingerprint).
util::Result<> import_key(Host& host, const Scratch& scratch, const KeySource& key);

// dnf install of the downloaded files, with signature checks on (gpgcheck, localpkg_gpgcheck): dnf checks
// them again against the host's rpmdb keys, which are the verified ones.
util::Result<> install(Host& host, const Scratch& scratch,
                       const std::vector<std::filesystem::path>& packages);

// dnf remove of exact NEVRAs.
util::Result<> remove(Host& host, const std::vector<std::string>& nevras);

} // namespace meshlink::agent::kernel
