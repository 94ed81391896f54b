// plan: read the node and the repository, run every check stage relies on, change nothing.

#include "node-agent/defaults.hpp"
#include "node-agent/kernel/prepare.hpp"
#include "probe/kconfig.hpp"
#include "probe/probe.hpp"
#include "util/file.hpp"
#include "util/files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <system_error>

namespace meshlink::agent::kernel {
namespace detail {
namespace {

namespace fs = std::filesystem;
using probe::Check;
using probe::Status;

Check make(std::string_view id, Status status, std::string message, std::string hint = {}) {
    return Check{std::string(id), status, std::move(message), std::move(hint)};
}

Check not_checked(std::string_view id, const std::string& why) {
    return make(id, Status::unknown, "not checked: " + why);
}

// The architecture part of a kernel release ("x86_64" of "5.14.0-427.el9.x86_64"), when it has one.
std::string arch_of(const std::string& release) {
    const auto dot = release.rfind('.');
    if (dot == std::string::npos) {
        return {};
    }
    const std::string arch = release.substr(dot + 1);
    for (const char* known : {"x86_64", "aarch64", "ppc64le", "s390x"}) {
        if (arch == known) {
            return arch;
        }
    }
    return {};
}

Check os_check(const NodeState& node, const UpgradeOptions& options) {
    if (!node.el) {
        return make(
            check_id::os, Status::fail, "not Enterprise Linux: " + node.el_error,
            "meshlink installs ELRepo kernels on EL 7-10 (RHEL, Rocky, AlmaLinux, CentOS, Oracle Linux); "
            "elsewhere use the distribution's kernels");
    }
    const std::string name =
        probe::trim(node.os.get("PRETTY_NAME")).empty() ? node.os.get("ID") : node.os.get("PRETTY_NAME");
    if (*node.el < 7 || *node.el > 10) {
        return make(
            check_id::os, Status::fail,
            fmt::format("{} is EL{}; ELRepo kernels exist for EL7 (archived) to EL10", name, *node.el));
    }
    if (*node.el == 7) {
        const std::string eol =
            "EL7 is end of life: ELRepo keeps its kernels only in an archive (the last kernel-ml is 6.9.7, "
            "without BTF)";
        if (!options.repo_url) {
            return make(check_id::os, Status::fail, name + " (EL7): " + eol,
                        "upgrade the OS to EL8 or later instead; to go on anyway, pass --repo-url with the "
                        "archive's (or your mirror's) kernel repository");
        }
        return make(check_id::os, Status::warn, name + " (EL7): " + eol + "; using " + *options.repo_url,
                    "upgrade the OS to EL8 or later instead of the kernel");
    }
    return make(check_id::os, Status::pass, fmt::format("{} (EL{})", name, *node.el));
}

Check trial_check(const NodeState& node, const util::Result<std::optional<TrialRecord>>& trial,
                  const std::optional<Candidate>& candidate) {
    if (!trial) {
        return make(check_id::trial, Status::fail, "the trial record is unreadable: " + trial.error().message,
                    "inspect it, then remove it if no trial is in progress");
    }
    if (!*trial) {
        return make(check_id::trial, Status::pass, "no kernel trial recorded");
    }
    const TrialRecord& record = **trial;
    switch (record.state) {
    case TrialState::confirmed:
    case TrialState::rolled_back:
        return make(check_id::trial, Status::pass,
                    fmt::format("the last trial ({}) is {}", record.target_release, to_string(record.state)));
    case TrialState::failed: {
        std::string reason = record.outcome.is_object() && record.outcome.contains("reason") &&
                                     record.outcome["reason"].is_string()
                                 ? record.outcome["reason"].get<std::string>()
                                 : std::string("see `meshlink-agent kernel status`");
        return make(check_id::trial, Status::fail,
                    fmt::format("the trial of {} failed: {}; a failed trial is never retried by itself",
                                record.target_release, reason),
                    "investigate the failure, then `meshlink-agent kernel rollback` clears it");
    }
    case TrialState::staging:
    case TrialState::staged:
        break;
    }
    if (candidate && record.target_release != candidate->kernel_release()) {
        return make(check_id::trial, Status::fail,
                    fmt::format("a trial of {} is {}, not of {}", record.target_release,
                                to_string(record.state), candidate->kernel_release()),
                    "confirm or roll back that trial first");
    }
    if (record.state == TrialState::staged && record.boot_id != node.boot_id) {
        return make(check_id::trial, Status::fail,
                    fmt::format("the node rebooted since {} was staged", record.target_release),
                    "run `meshlink-agent kernel confirm` to record how the trial boot went");
    }
    return make(check_id::trial, Status::pass,
                fmt::format("continuing the trial of {} ({} since {})", record.target_release,
                            to_string(record.state), record.staged_at));
}

Check secure_boot_check(const NodeState& node) {
    using Mode = probe::SecureBootState::Mode;
    const auto& sb = node.secure_boot;
    switch (sb.mode) {
    case Mode::bios:
        return make(check_id::secure_boot, Status::pass, "no Secure Boot: BIOS boot");
    case Mode::disabled:
    case Mode::setup_mode:
    case Mode::validation_disabled:
        return make(check_id::secure_boot, Status::pass,
                    fmt::format("Secure Boot {} ({})", probe::to_string(sb.mode), sb.evidence));
    case Mode::enabled:
    case Mode::unknown:
        break;
    }
    return make(
        check_id::secure_boot, Status::fail,
        fmt::format("Secure Boot is {} ({}): ELRepo kernels are not signed for Secure Boot, so shim "
                    "would refuse to boot one",
                    probe::to_string(sb.mode), sb.evidence),
        "1) disable Secure Boot in the firmware; 2) `mokutil --disable-validation` (needs the console "
        "at the next boot, weakens the boot chain); or 3) enrol your own MOK and sign kernel-ml with it "
        "(not automated by meshlink)");
}

Check grub_default_check(const NodeState& node) {
    if (!node.grub_default) {
        return make(
            check_id::grub_default, Status::fail,
            "GRUB_DEFAULT unknown: " + node.grub_default_error + " (GRUB then boots the first entry)",
            "set GRUB_DEFAULT=saved in /etc/default/grub and run grub2-mkconfig -o /boot/grub2/grub.cfg");
    }
    if (*node.grub_default != "saved") {
        return make(
            check_id::grub_default, Status::fail,
            fmt::format("GRUB_DEFAULT={} in /etc/default/grub: GRUB ignores the saved default, and the "
                        "new kernel (sorted first) would become the default at once",
                        *node.grub_default),
            "set GRUB_DEFAULT=saved in /etc/default/grub and run grub2-mkconfig -o /boot/grub2/grub.cfg");
    }
    return make(check_id::grub_default, Status::pass, "GRUB_DEFAULT=saved");
}

Check grubenv_check(const NodeState& node) {
    if (!node.grubenv.error.empty()) {
        return make(check_id::grubenv, Status::fail,
                    "GRUB environment block unreadable: " + node.grubenv.error,
                    "a one-shot boot needs GRUB's environment block (grub2-editenv create)");
    }
    const auto& device = node.grubenv_device;
    if (!device.grub_can_write()) {
        return make(check_id::grubenv, Status::fail,
                    fmt::format("{} is on {} ({}): GRUB cannot write its environment there, so the one-shot "
                                "boot would become a permanent switch with no fallback",
                                node.grubenv.file, to_string(device.kind), device.evidence),
                    "upgrade this node by hand with console access, or move /boot to a plain partition");
    }
    return make(check_id::grubenv, Status::pass,
                fmt::format("{} on a plain {} partition ({} at {}): GRUB can clear a one-shot entry",
                            node.grubenv.file, device.fstype, device.source, device.mount_point));
}

Check entries_check(const NodeState& node) {
    if (!node.loader.error.empty() && node.loader.entries.empty()) {
        return make(check_id::boot_entries, Status::fail, "boot entries unreadable: " + node.loader.error);
    }
    if (node.running.release.empty()) {
        return make(check_id::boot_entries, Status::fail,
                    "the running kernel is unknown: " + node.running.error,
                    "point --proc at the host's procfs");
    }
    const BootEntry* current = running_entry(node);
    if (current == nullptr) {
        return make(check_id::boot_entries, Status::fail,
                    fmt::format("no {} entry boots the running kernel {}, so it cannot stay the fallback",
                                to_string(node.loader.kind), node.running.release));
    }
    const std::string saved = env_value(node.grubenv, "saved_entry");
    return make(
        check_id::boot_entries, Status::pass,
        fmt::format("the running kernel {} boots from entry \"{}\" ({} entries; saved default \"{}\")",
                    node.running.release, current->id, node.loader.entries.size(), saved));
}

std::vector<Check> judge_config(const NodeState& node, const Candidate& candidate, const std::string& source,
                                const std::string& text, probe::CiliumVersion cilium) {
    probe::NodeFacts facts;
    facts.kernel = probe::parse_kernel_release(candidate.kernel_release());
    facts.os = node.os;
    facts.kconfig.config = probe::parse_kconfig(text);
    facts.kconfig.searched = {source};
    if (facts.kconfig.config.usable()) {
        facts.kconfig.source = source;
    } else {
        facts.kconfig.error = source + ": not a usable kernel config";
    }
    facts.btf.error = "the candidate has not booted";
    std::vector<Check> judged;
    for (auto& check : probe::evaluate(facts, cilium)) {
        if (check.id == probe::check_id::kernel_version || check.id == probe::check_id::kernel_config ||
            check.id == probe::check_id::kernel_btf) {
            judged.push_back(std::move(check));
        }
    }
    return judged;
}

} // namespace

const BootEntry* running_entry(const NodeState& node) {
    return node.loader.for_kernel(node.running.release);
}

util::Result<> grubenv_set(Host& host, const NodeState& node, const std::vector<std::string>& assignments) {
    std::vector<std::string> args{node.grubenv.file, "set"};
    args.insert(args.end(), assignments.begin(), assignments.end());
    auto output = host.run(Tool::grub_editenv, args, defaults::k_tool_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::generic, output->command + ": " + output->tail());
    }
    return {};
}

util::Result<> grubenv_unset(Host& host, const NodeState& node, const std::vector<std::string>& names) {
    std::vector<std::string> args{node.grubenv.file, "unset"};
    args.insert(args.end(), names.begin(), names.end());
    auto output = host.run(Tool::grub_editenv, args, defaults::k_tool_timeout);
    if (!output) {
        return std::unexpected(output.error());
    }
    if (!output->ok()) {
        return util::fail(util::ErrorKind::generic, output->command + ": " + output->tail());
    }
    return {};
}

util::Result<bool> edit_entry_file(Host& host, const BootEntry& entry,
                                   const std::function<util::Result<std::string>(const std::string&)>& edit) {
    const auto path = host.files().in_root(entry.file);
    auto text = probe::read_text(path, 4 * 1024 * 1024);
    if (!text.text) {
        return util::fail(util::ErrorKind::io, text.error);
    }
    auto edited = edit(*text.text);
    if (!edited) {
        return std::unexpected(edited.error());
    }
    if (*edited == *text.text) {
        return false;
    }
    if (auto written = util::write_file_atomically(path, *edited); !written) {
        return std::unexpected(written.error());
    }
    return true;
}

util::Result<Prepared> prepare(Host& host, const UpgradeOptions& options) {
    Prepared prep;
    auto node = read_node(host);
    if (!node) {
        return std::unexpected(node.error());
    }
    prep.node = std::move(*node);
    const NodeState& n = prep.node;
    PlanResult& result = prep.result;
    result.el = n.el;
    result.os = n.os.get("PRETTY_NAME");
    result.running = n.running.release;
    result.boot_id = n.boot_id;
    result.default_entry = env_value(n.grubenv, "saved_entry");
    if (const BootEntry* entry = n.loader.by_id(result.default_entry)) {
        result.default_kernel = entry->kernel;
    }
    auto trial = read_trial(host.files());
    if (trial && *trial) {
        prep.trial = **trial;
    }

    std::vector<Check> checks;
    checks.push_back(os_check(n, options));
    const bool el_ok = checks.back().status != Status::fail;
    const int el = n.el.value_or(0);

    // Keys: an operator's file (with its own fingerprint, or ELRepo's), else the compiled-in ELRepo keys.
    Check keys_check = not_checked(check_id::signing_keys, "no supported EL release");
    if (el_ok) {
        if (options.repo_key) {
            // An armored public key is a few KiB; anything far larger is not one.
            auto text = util::read_file(*options.repo_key, {.regular_only = true, .limit = 1U << 20U});
            KeySource source{"--repo-key " + options.repo_key->string(), text ? *text : std::string(), {}};
            if (!text) {
                source.name += " (" + text.error().reason() + ")"; // an empty text is reported as unreadable
            }
            if (options.repo_key_fingerprint) {
                source.fingerprints = {normalize_fingerprint(*options.repo_key_fingerprint)};
            } else {
                for (const auto& key : elrepo_keys(el)) {
                    source.fingerprints.insert(source.fingerprints.end(), key.fingerprints.begin(),
                                               key.fingerprints.end());
                }
            }
            prep.keys.push_back(std::move(source));
        } else {
            prep.keys = elrepo_keys(el);
        }
        std::vector<std::string> names;
        std::string problem;
        for (const auto& source : prep.keys) {
            auto keys = source.text.empty() ? util::Result<std::vector<PublicKey>>(util::fail(
                                                  util::ErrorKind::io, source.name + ": unreadable"))
                                            : verify_key(source);
            if (!keys) {
                problem = keys.error().message;
                break;
            }
            for (const auto& key : *keys) {
                prep.trusted.push_back(key);
                result.key_fingerprints.push_back(key.fingerprint);
                names.push_back(
                    fmt::format("{} {} ({})", source.name, spaced_fingerprint(key.fingerprint), key.user_id));
            }
        }
        if (!problem.empty()) {
            prep.trusted.clear();
            result.key_fingerprints.clear();
            keys_check =
                make(check_id::signing_keys, Status::fail, problem,
                     "use ELRepo's own key files, or name your re-signing key's full fingerprint with "
                     "--repo-key-fingerprint");
        } else {
            keys_check = make(check_id::signing_keys, Status::pass,
                              fmt::format("trusted by full fingerprint: {}", fmt::join(names, "; ")));
        }
    }

    // The candidate from the repository, its packages verified.
    Check candidate_check = not_checked(check_id::candidate, "no supported EL release");
    Check signatures_check = not_checked(check_id::signatures, "no candidate");
    Check space_check = not_checked(check_id::boot_space, "no candidate");
    Check config_check = not_checked(check_id::candidate_config, "no candidate");
    if (el_ok) {
        prep.repo.el = el;
        prep.repo.url = options.repo_url ? *options.repo_url
                                         : fmt::format(fmt::runtime(defaults::k_elrepo_kernel_url), el);
        result.repo_url = prep.repo.url;
        auto scratch = host.scratch();
        if (!scratch) {
            return std::unexpected(scratch.error());
        }
        prep.scratch = std::make_unique<Scratch>(std::move(*scratch));
        const auto names = package_names(options.flavor, el);
        auto available = query_repository(host, *prep.scratch, prep.repo, names);
        util::Result<Candidate> chosen =
            available ? choose_candidate(*available, names, el, arch_of(n.running.release), options.version)
                      : util::Result<Candidate>(std::unexpected(available.error()));
        if (!chosen) {
            candidate_check = make(check_id::candidate, Status::fail, chosen.error().message,
                                   "check --repo-url, --flavor and --version");
        } else {
            result.candidate = *chosen;
            std::vector<std::string> nevras;
            for (const auto& p : chosen->packages) {
                nevras.push_back(p.full());
            }
            if (chosen->kernel_release() == n.running.release) {
                candidate_check =
                    make(check_id::candidate, Status::fail,
                         fmt::format("{} is already the running kernel", n.running.release),
                         "nothing to stage; run `meshlink-agent kernel confirm` if a trial is pending");
            } else {
                const bool newer = n.running.version &&
                                   rpm_vercmp(chosen->version, probe::to_string(*n.running.version)) > 0;
                candidate_check =
                    make(check_id::candidate, newer || !n.running.version ? Status::pass : Status::warn,
                         fmt::format("{} from {}: {}", chosen->kernel_release(), prep.repo.url,
                                     fmt::join(nevras, ", ")),
                         newer || !n.running.version ? std::string()
                                                     : "the candidate is not newer than the running kernel");
            }
        }
    }
    checks.push_back(trial_check(n, trial, result.candidate));
    checks.push_back(secure_boot_check(n));
    checks.push_back(grub_default_check(n));
    checks.push_back(grubenv_check(n));
    checks.push_back(entries_check(n));
    checks.push_back(keys_check);
    checks.push_back(candidate_check);

    if (result.candidate && candidate_check.status != Status::fail && !prep.trusted.empty()) {
        const Candidate& candidate = *result.candidate;
        auto installed = query_installed(host, full_names(candidate.packages));
        if (!installed) {
            return std::unexpected(installed.error());
        }
        prep.installed = *installed;
        std::vector<Nevra> missing;
        std::vector<std::string> problems;
        for (const auto& p : candidate.packages) {
            auto it = installed->find(p.full());
            if (it == installed->end()) {
                missing.push_back(p);
                continue;
            }
            result.installed.push_back(p.full());
            if (!it->second.signed_by_any(prep.trusted)) {
                problems.push_back(fmt::format("installed {} is signed by \"{}\", not by a trusted key",
                                               p.full(), it->second.signature));
            }
        }
        std::vector<std::string> signed_ok;
        if (!missing.empty()) {
            auto files = download(host, *prep.scratch, prep.repo, missing);
            if (!files) {
                problems.push_back(files.error().message);
            } else {
                auto sigs = check_signatures(host, *prep.scratch, prep.keys, prep.trusted, *files);
                if (!sigs) {
                    return std::unexpected(sigs.error());
                }
                for (const auto& sig : *sigs) {
                    if (!sig.ok) {
                        problems.push_back(sig.package + ": " + sig.detail);
                    } else {
                        signed_ok.push_back(sig.package + " " + sig.detail.substr(sig.detail.rfind(' ') + 1));
                    }
                }
                prep.downloads = *files;
            }
        }
        if (!problems.empty()) {
            prep.downloads.clear();
            signatures_check =
                make(check_id::signatures, Status::fail, fmt::format("{}", fmt::join(problems, "; ")),
                     "install only packages signed by the pinned keys: check the repository (or "
                     "mirror) and the key given with --repo-key");
        } else {
            signatures_check = make(
                check_id::signatures, Status::pass,
                missing.empty() ? fmt::format("all {} packages installed, signed by a trusted key",
                                              candidate.packages.size())
                                : fmt::format("signed by a trusted key: {}{}", fmt::join(signed_ok, ", "),
                                              result.installed.empty() ? "" : " (others installed)"));

            // /boot space and conflicts: rpm's own transaction test on the host.
            if (prep.downloads.empty()) {
                space_check = make(check_id::boot_space, Status::pass, "nothing to install");
            } else {
                auto tested = transaction_test(host, *prep.scratch, prep.downloads);
                if (!tested) {
                    return std::unexpected(tested.error());
                }
                space_check =
                    *tested
                        ? make(check_id::boot_space, Status::fail,
                               "rpm's transaction test refuses the install: " + **tested,
                               "free space on /boot (remove old kernels: dnf remove --oldinstallonly) "
                               "and plan again")
                        : make(check_id::boot_space, Status::pass,
                               fmt::format("rpm's transaction test passes (space on /boot and the "
                                           "other filesystems, conflicts){}",
                                           n.boot_free_bytes ? fmt::format("; {} MiB free on /boot",
                                                                           *n.boot_free_bytes / (1024 * 1024))
                                                             : std::string()));
            }

            // The candidate's own kernel config, judged by the probe before anything is installed.
            const std::string kver = candidate.kernel_release();
            std::optional<std::string> config_text;
            std::string source;
            for (const char* installed_path : {"/lib/modules/{}/config", "/boot/config-{}"}) {
                if (!result.installed.empty() && !config_text) {
                    const std::string host_path = fmt::format(fmt::runtime(installed_path), kver);
                    auto text = probe::read_text(host.files().in_root(host_path), 8 * 1024 * 1024);
                    if (text.text) {
                        config_text = *text.text;
                        source = host_path;
                    }
                }
            }
            std::string config_error;
            for (const auto& file : prep.downloads) {
                if (config_text) {
                    break;
                }
                auto text = extract_config(host, *prep.scratch, file, kver);
                if (text) {
                    config_text = *text;
                    source = file.filename().string() + ":/lib/modules/" + kver + "/config";
                } else if (text.error().kind != util::ErrorKind::not_found) {
                    config_error = text.error().message;
                }
            }
            if (!config_text) {
                config_check = make(check_id::candidate_config, Status::fail,
                                    "the candidate's kernel config could not be read" +
                                        (config_error.empty() ? std::string() : ": " + config_error),
                                    "a kernel whose config cannot be judged is not installed");
            } else {
                const auto judged = judge_config(n, candidate, source, *config_text, options.cilium);
                std::vector<std::string> failed;
                std::vector<std::string> warned;
                std::string hint;
                for (const auto& check : judged) {
                    if (check.status == Status::fail || check.status == Status::unknown) {
                        failed.push_back(check.message);
                        hint = check.hint;
                    } else if (check.status == Status::warn) {
                        warned.push_back(check.message);
                    }
                }
                if (!failed.empty()) {
                    config_check = make(
                        check_id::candidate_config, Status::fail,
                        fmt::format("{} does not meet Cilium {}: {}", kver, probe::to_string(options.cilium),
                                    fmt::join(failed, "; ")),
                        "choose another kernel (--version, --flavor) or another Cilium release; " + hint);
                } else {
                    config_check =
                        make(check_id::candidate_config, warned.empty() ? Status::pass : Status::warn,
                             fmt::format("{} meets Cilium {} (kernel version, base options, BTF; from {}){}",
                                         kver, probe::to_string(options.cilium), source,
                                         warned.empty() ? std::string()
                                                        : fmt::format("; {}", fmt::join(warned, "; "))));
                }
            }
        }
    } else if (result.candidate && prep.trusted.empty()) {
        signatures_check = not_checked(check_id::signatures, "no trusted key");
    }
    checks.push_back(signatures_check);
    checks.push_back(space_check);
    checks.push_back(config_check);
    result.checks = std::move(checks);
    result.allowed = std::none_of(result.checks.begin(), result.checks.end(), [](const Check& check) {
        return check.status == Status::fail || check.status == Status::unknown;
    });
    return prep;
}

} // namespace detail

util::Result<PlanResult> plan(Host& host, const UpgradeOptions& options) {
    auto prep = detail::prepare(host, options);
    if (!prep) {
        return std::unexpected(prep.error());
    }
    return std::move(prep->result);
}

} // namespace meshlink::agent::kernel
