// The optional datapath features (node.feature.*): what their Helm values need from the kernel, and what to
// do without it.

#include "probe/check_text.hpp"

#include <fmt/format.h>

#include <optional>

namespace meshlink::probe::detail {
namespace {

// A piece of evidence for a requirement: true (met), false (not met, with what is missing) or unknown.
struct Evidence {
    std::optional<bool> met;
    std::string detail; // what is missing, or why unknown
};

bool module_available(ModuleState state) {
    return state == ModuleState::builtin || state == ModuleState::loadable || state == ModuleState::loaded;
}

// Whether CONFIG_<option> is there: the config decides; without it, the module tree can tell.
Evidence option_evidence(const NodeFacts& facts, std::string_view option, bool must_be_builtin) {
    const OptionState state = facts.kconfig.get(option);
    if (state != OptionState::unknown) {
        if (option_present(state, must_be_builtin)) {
            return {true, {}};
        }
        return {false,
                fmt::format("{}={}", option, state == OptionState::m ? "m (must be y)" : to_string(state))};
    }
    const auto module = module_for_option(option);
    if (!module.empty() && !must_be_builtin) {
        const ModuleState mstate = facts.modules.get(module);
        if (module_available(mstate)) {
            return {true, {}};
        }
        if (mstate == ModuleState::missing) {
            return {false, fmt::format("module {} missing", module)};
        }
    }
    return {std::nullopt, fmt::format("{} unknown", option)};
}

} // namespace

Check feature_check(const NodeFacts& facts, const FeatureRequirement& feature) {
    Check check{std::string(feature.id), Status::unknown, {}, {}};
    std::vector<std::string> missing;
    std::vector<std::string> unknown;
    const auto add = [&](const Evidence& evidence) {
        if (evidence.met == false) {
            missing.push_back(evidence.detail);
        } else if (!evidence.met) {
            unknown.push_back(evidence.detail);
        }
    };

    const std::size_t unknown_before_options = unknown.size();
    if (!feature.options.empty()) {
        if (feature.any_option) {
            std::vector<std::string> absent;
            bool any = false;
            bool undecided = false;
            for (auto option : feature.options) {
                const Evidence e = option_evidence(facts, option, feature.option_must_be_builtin);
                any = any || e.met == true;
                undecided = undecided || !e.met;
                absent.push_back(e.detail);
            }
            if (!any) {
                add(undecided ? Evidence{std::nullopt, join(absent, " and ")}
                              : Evidence{false, join(absent, " and ")});
            }
        } else {
            for (auto option : feature.options) {
                add(option_evidence(facts, option, feature.option_must_be_builtin));
            }
        }
    }

    // The running kernel's own config says whether the option is there, whatever the version (RHEL
    // backports WireGuard to 4.18, for one).
    const bool options_decided = !feature.options.empty() && unknown.size() == unknown_before_options;

    // The runtime probes are authoritative; the version gate stands in only when neither they nor the
    // config could answer.
    bool runtime_known = true;
    const auto runtime = [&](std::optional<bool> available, std::string what) {
        if (available == false) {
            missing.push_back(std::move(what));
        }
        runtime_known = runtime_known && available.has_value();
    };
    for (auto type : feature.program_types) {
        runtime(facts.bpf.program_type(type), fmt::format("program type {}", type));
    }
    for (const auto& need : feature.helpers) {
        runtime(facts.bpf.helper(need.program_type, need.helper),
                fmt::format("helper bpf_{} in {}", need.helper, need.program_type));
    }
    const bool has_runtime = !feature.program_types.empty() || !feature.helpers.empty();
    if (!(has_runtime && runtime_known) && !options_decided) {
        if (feature.min_kernel != KernelVersion{}) {
            if (!facts.kernel.version) {
                unknown.push_back("kernel version unknown");
            } else if (*facts.kernel.version < feature.min_kernel) {
                missing.push_back(fmt::format("kernel {} < {}{}", describe_kernel(facts.kernel),
                                              to_string(feature.min_kernel),
                                              has_runtime ? " (runtime probes not run)" : ""));
            }
        } else if (has_runtime) {
            unknown.push_back(facts.bpf.probed ? "runtime BPF probes undecided: " + facts.bpf.error
                                               : facts.bpf.error);
        }
    }

    if (feature.needs_cgroup2) {
        const bool have = facts.mounts.cgroup2 == true || facts.mounts.cgroup2_supported == true;
        if (!have && facts.mounts.cgroup2_supported == false) {
            missing.push_back("cgroup v2");
        } else if (!have) {
            unknown.push_back("cgroup v2 unknown");
        }
    }

    if (!missing.empty()) {
        check.status = Status::warn;
        check.message =
            fmt::format("{} unavailable ({}): {}", feature.name, feature.helm, join_some(missing));
        check.hint = std::string(feature.without);
        return check;
    }
    if (!unknown.empty()) {
        check.message = fmt::format("{} unknown: {}", feature.name, join_some(unknown));
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("{} available ({})", feature.name, feature.helm);
    return check;
}

} // namespace meshlink::probe::detail
