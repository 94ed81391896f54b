#include "probe/report.hpp"

#include "util/json_path.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace meshlink::probe {
namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json optional_json(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

Json text_or_null(const std::string& text) {
    return text.empty() ? Json(nullptr) : Json(text);
}

Json kernel_json(const KernelRelease& kernel) {
    Json out;
    out["release"] = text_or_null(kernel.release);
    out["version"] = kernel.version
                         ? Json::array({kernel.version->major, kernel.version->minor, kernel.version->patch})
                         : Json(nullptr);
    out["error"] = text_or_null(kernel.error);
    return out;
}

Json os_json(const OsRelease& os) {
    Json out;
    const auto field = [&](std::string_view key) { return text_or_null(os.get(key)); };
    out["id"] = field("ID");
    out["idLike"] = os.id_like();
    out["versionId"] = field("VERSION_ID");
    out["platformId"] = field("PLATFORM_ID");
    out["prettyName"] = field("PRETTY_NAME");
    out["source"] = text_or_null(os.source);
    std::string error = os.error;
    for (const auto& problem : os.problems) {
        error += (error.empty() ? "" : "; ") + problem;
    }
    out["error"] = text_or_null(error);
    return out;
}

Json kconfig_json(const KconfigFacts& kconfig) {
    Json out;
    out["source"] = text_or_null(kconfig.source);
    Json options = Json::object();
    for (auto option : reported_options()) {
        options[std::string(option)] = std::string(to_string(kconfig.get(option)));
    }
    out["options"] = std::move(options);
    out["error"] = text_or_null(kconfig.error);
    return out;
}

Json availability_map(const std::vector<NamedAvailability>& entries) {
    Json out = Json::object();
    for (const auto& entry : entries) {
        out[entry.name] = optional_json(entry.available);
    }
    return out;
}

Json bpf_json(const BpfFacts& bpf) {
    Json out;
    out["probed"] = bpf.probed;
    out["syscall"] = optional_json(bpf.syscall);
    out["programTypes"] = availability_map(bpf.program_types);
    out["mapTypes"] = availability_map(bpf.map_types);
    Json helpers = Json::object();
    for (const auto& entry : bpf.helpers) {
        helpers[entry.program_type][entry.helper] = optional_json(entry.available);
    }
    out["helpers"] = std::move(helpers);
    out["jit"] = Json{
        {"jited", optional_json(bpf.jited)},
        {"bpf_jit_enable", optional_json(bpf.jit_enable)},
        {"bpf_jit_harden", optional_json(bpf.jit_harden)},
        {"bpf_jit_kallsyms", optional_json(bpf.jit_kallsyms)},
        {"bpf_jit_limit", optional_json(bpf.jit_limit)},
    };
    out["unprivileged_bpf_disabled"] = optional_json(bpf.unprivileged_bpf_disabled);
    out["error"] = text_or_null(bpf.error);
    return out;
}

Json modules_json(const ModuleFacts& modules) {
    Json out = Json::object();
    for (const auto& module : modules.modules) {
        out[module.name] = std::string(to_string(module.state));
    }
    return out;
}

Json boot_json(const BootFacts& boot) {
    Json out;
    out["firmware"] = optional_json(boot.firmware);
    out["secureBoot"] = optional_json(boot.secure_boot);
    out["bootFreeBytes"] = optional_json(boot.boot_free_bytes);
    out["grubenv"] = text_or_null(boot.grubenv);
    out["savedEntry"] = optional_json(boot.saved_entry);
    out["bls"] = optional_json(boot.bls);
    out["blsEntries"] = boot.bls_entries;
    out["defaultKernel"] = optional_json(boot.default_kernel);
    std::string error;
    for (const auto& line : boot.errors) {
        error += (error.empty() ? "" : "; ") + line;
    }
    out["error"] = text_or_null(error);
    return out;
}

Json mounts_json(const MountFacts& mounts) {
    Json out;
    out["bpffs"] = optional_json(mounts.bpffs);
    out["bpffsMounts"] = mounts.bpffs_mounts;
    out["cgroup2"] = optional_json(mounts.cgroup2);
    out["cgroup2Mounts"] = mounts.cgroup2_mounts;
    out["cgroup2Supported"] = optional_json(mounts.cgroup2_supported);
    out["error"] = text_or_null(mounts.error);
    return out;
}

} // namespace

Report make_report(const ProbeOptions& options, CiliumVersion cilium) {
    Report report;
    report.cilium = cilium;
    (void)requirements_for(cilium, &report.extrapolated);
    report.facts = gather(options);
    report.checks = evaluate(report.facts, cilium);
    return report;
}

nlohmann::ordered_json to_json(const Report& report) {
    const NodeFacts& facts = report.facts;
    Json out;
    out["schemaVersion"] = k_schema_version;
    out["node"] = text_or_null(facts.node);
    out["ciliumVersion"] = to_string(report.cilium);
    const auto& row = requirements_for(report.cilium);
    out["requirementsOf"] =
        row.first == row.last ? to_string(row.first) : to_string(row.first) + "-" + to_string(row.last);
    Json f;
    f["kernel"] = kernel_json(facts.kernel);
    f["os"] = os_json(facts.os);
    f["kconfig"] = kconfig_json(facts.kconfig);
    f["btf"] = Json{{"vmlinux", optional_json(facts.btf.vmlinux)}, {"error", text_or_null(facts.btf.error)}};
    f["bpf"] = bpf_json(facts.bpf);
    f["modules"] = modules_json(facts.modules);
    f["moduleIndex"] = Json{{"directory", text_or_null(facts.modules.directory)},
                            {"error", text_or_null(facts.modules.error)}};
    f["mounts"] = mounts_json(facts.mounts);
    f["boot"] = boot_json(facts.boot);
    out["facts"] = std::move(f);
    Json checks = Json::array();
    for (const auto& check : report.checks) {
        checks.push_back(Json{{"id", check.id},
                              {"status", std::string(to_string(check.status))},
                              {"message", check.message},
                              {"hint", text_or_null(check.hint)}});
    }
    out["checks"] = std::move(checks);
    return out;
}

std::string to_json_text(const Report& report, int indent) {
    return to_json(report).dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

namespace {

// Readers for facts_from_json: a missing key or a value of another type is "unknown".
using util::json_path::child;

std::string text_of(const nlohmann::json& value) {
    return value.is_string() ? value.get<std::string>() : std::string();
}

std::optional<bool> bool_of(const nlohmann::json& value) {
    return value.is_boolean() ? std::optional<bool>(value.get<bool>()) : std::nullopt;
}

template <typename T>
std::optional<T> number_of(const nlohmann::json& value) {
    if (!value.is_number_integer() && !value.is_number_unsigned()) {
        return std::nullopt;
    }
    return value.get<T>();
}

std::optional<std::string> optional_text(const nlohmann::json& value) {
    return value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt;
}

std::vector<std::string> texts_of(const nlohmann::json& value) {
    std::vector<std::string> out;
    if (value.is_array()) {
        for (const auto& item : value) {
            if (item.is_string()) {
                out.push_back(item.get<std::string>());
            }
        }
    }
    return out;
}

KernelRelease kernel_from_json(const nlohmann::json& kernel) {
    const std::string release = text_of(child(kernel, "release"));
    // The release string carries more than the version array (build number, EL tags): parse it again.
    KernelRelease out = release.empty() ? KernelRelease{} : parse_kernel_release(release);
    const auto& version = child(kernel, "version");
    if (!out.version && version.is_array() && version.size() == 3 &&
        std::all_of(version.begin(), version.end(), [](const auto& n) { return n.is_number_integer(); })) {
        out.version = KernelVersion{version[0].get<int>(), version[1].get<int>(), version[2].get<int>()};
    }
    if (auto error = text_of(child(kernel, "error")); !error.empty()) {
        out.error = error;
    } else if (!out.version && out.error.empty()) {
        out.error = "not in the report";
    }
    return out;
}

OsRelease os_from_json(const nlohmann::json& os) {
    OsRelease out;
    const auto set = [&](const char* field, const char* key) {
        if (auto value = text_of(child(os, key)); !value.empty()) {
            out.fields[field] = value;
        }
    };
    set("ID", "id");
    set("VERSION_ID", "versionId");
    set("PLATFORM_ID", "platformId");
    set("PRETTY_NAME", "prettyName");
    std::string like;
    for (const auto& id : texts_of(child(os, "idLike"))) {
        like += (like.empty() ? "" : " ") + id;
    }
    if (!like.empty()) {
        out.fields["ID_LIKE"] = like;
    }
    out.source = text_of(child(os, "source"));
    out.error = text_of(child(os, "error"));
    if (out.fields.empty() && out.error.empty()) {
        out.error = "not in the report";
    }
    return out;
}

KconfigFacts kconfig_from_json(const nlohmann::json& kconfig) {
    KconfigFacts out;
    out.source = text_of(child(kconfig, "source"));
    out.error = text_of(child(kconfig, "error"));
    if (out.source.empty() && out.error.empty()) {
        out.error = "not in the report";
    }
    const auto& options = child(kconfig, "options");
    if (options.is_object()) {
        for (const auto& [name, value] : options.items()) {
            const std::string state = text_of(value);
            // "unset" stays absent (get() then says unset); "unknown" cannot be told apart from it here,
            // but a document only holds "unknown" when the source is null, which makes every option unknown.
            if (state == "y" || state == "m" || state == "n") {
                out.config.options[name] = state.front();
                ++out.config.assignments;
            }
        }
    }
    return out;
}

std::vector<NamedAvailability> availability_list(const nlohmann::json& map) {
    std::vector<NamedAvailability> out;
    if (map.is_object()) {
        for (const auto& [name, value] : map.items()) {
            out.push_back({name, bool_of(value)});
        }
    }
    return out;
}

BpfFacts bpf_from_json(const nlohmann::json& bpf) {
    BpfFacts out;
    out.probed = bool_of(child(bpf, "probed")).value_or(false);
    out.error = text_of(child(bpf, "error"));
    if (!out.probed && out.error.empty()) {
        out.error = "runtime BPF probes not in the report";
    }
    out.syscall = bool_of(child(bpf, "syscall"));
    out.program_types = availability_list(child(bpf, "programTypes"));
    out.map_types = availability_list(child(bpf, "mapTypes"));
    if (const auto& helpers = child(bpf, "helpers"); helpers.is_object()) {
        for (const auto& [type, names] : helpers.items()) {
            if (!names.is_object()) {
                continue;
            }
            for (const auto& [helper, value] : names.items()) {
                out.helpers.push_back({type, helper, bool_of(value)});
            }
        }
    }
    const auto& jit = child(bpf, "jit");
    out.jited = bool_of(child(jit, "jited"));
    out.jit_enable = number_of<long long>(child(jit, "bpf_jit_enable"));
    out.jit_harden = number_of<long long>(child(jit, "bpf_jit_harden"));
    out.jit_kallsyms = number_of<long long>(child(jit, "bpf_jit_kallsyms"));
    out.jit_limit = number_of<long long>(child(jit, "bpf_jit_limit"));
    out.unprivileged_bpf_disabled = number_of<long long>(child(bpf, "unprivileged_bpf_disabled"));
    return out;
}

ModuleState module_state(std::string_view text) {
    for (auto state :
         {ModuleState::builtin, ModuleState::loadable, ModuleState::loaded, ModuleState::missing}) {
        if (to_string(state) == text) {
            return state;
        }
    }
    return ModuleState::unknown;
}

ModuleFacts modules_from_json(const nlohmann::json& modules, const nlohmann::json& index) {
    ModuleFacts out;
    out.directory = text_of(child(index, "directory"));
    out.error = text_of(child(index, "error"));
    if (modules.is_object()) {
        for (const auto& [name, value] : modules.items()) {
            out.modules.push_back({name, module_state(text_of(value))});
        }
    }
    if (out.modules.empty() && out.error.empty()) {
        out.error = "module states not in the report";
    }
    return out;
}

MountFacts mounts_from_json(const nlohmann::json& mounts) {
    MountFacts out;
    out.bpffs = bool_of(child(mounts, "bpffs"));
    out.bpffs_mounts = texts_of(child(mounts, "bpffsMounts"));
    out.cgroup2 = bool_of(child(mounts, "cgroup2"));
    out.cgroup2_mounts = texts_of(child(mounts, "cgroup2Mounts"));
    out.cgroup2_supported = bool_of(child(mounts, "cgroup2Supported"));
    out.error = text_of(child(mounts, "error"));
    if (!out.bpffs && out.error.empty()) {
        out.error = "mounts not in the report";
    }
    return out;
}

BootFacts boot_from_json(const nlohmann::json& boot) {
    BootFacts out;
    out.firmware = optional_text(child(boot, "firmware"));
    out.secure_boot = bool_of(child(boot, "secureBoot"));
    out.boot_free_bytes = number_of<std::uint64_t>(child(boot, "bootFreeBytes"));
    out.grubenv = text_of(child(boot, "grubenv"));
    out.saved_entry = optional_text(child(boot, "savedEntry"));
    out.bls = bool_of(child(boot, "bls"));
    out.bls_entries = texts_of(child(boot, "blsEntries"));
    out.default_kernel = optional_text(child(boot, "defaultKernel"));
    // to_json joined the lines with "; "; one line holding them all reads the same.
    if (auto error = text_of(child(boot, "error")); !error.empty()) {
        out.errors.push_back(error);
    }
    return out;
}

} // namespace

NodeFacts facts_from_json(const nlohmann::json& document) {
    NodeFacts facts;
    facts.node = text_of(child(document, "node"));
    const auto& f = child(document, "facts");
    facts.kernel = kernel_from_json(child(f, "kernel"));
    facts.os = os_from_json(child(f, "os"));
    facts.kconfig = kconfig_from_json(child(f, "kconfig"));
    const auto& btf = child(f, "btf");
    facts.btf.vmlinux = bool_of(child(btf, "vmlinux"));
    facts.btf.error = text_of(child(btf, "error"));
    if (!facts.btf.vmlinux && facts.btf.error.empty()) {
        facts.btf.error = "not in the report";
    }
    facts.bpf = bpf_from_json(child(f, "bpf"));
    facts.modules = modules_from_json(child(f, "modules"), child(f, "moduleIndex"));
    facts.mounts = mounts_from_json(child(f, "mounts"));
    facts.boot = boot_from_json(child(f, "boot"));
    return facts;
}

} // namespace meshlink::probe
