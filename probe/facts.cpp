// The fact types' own accessors (probe/bpf.hpp, probe/kmod.hpp), apart from the code that gathers the facts:
// they belong to meshlink_probe_core, which re-judges published reports without libbpf or libkmod.
#include "probe/bpf.hpp"
#include "probe/kmod.hpp"

namespace meshlink::probe {

std::optional<bool> BpfFacts::program_type(std::string_view name) const {
    for (const auto& entry : program_types) {
        if (entry.name == name) {
            return entry.available;
        }
    }
    return std::nullopt;
}

std::optional<bool> BpfFacts::map_type(std::string_view name) const {
    for (const auto& entry : map_types) {
        if (entry.name == name) {
            return entry.available;
        }
    }
    return std::nullopt;
}

std::optional<bool> BpfFacts::helper(std::string_view type, std::string_view name) const {
    for (const auto& entry : helpers) {
        if (entry.program_type == type && entry.helper == name) {
            return entry.available;
        }
    }
    return std::nullopt;
}

std::string_view to_string(ModuleState state) {
    switch (state) {
    case ModuleState::builtin:
        return "builtin";
    case ModuleState::loadable:
        return "loadable";
    case ModuleState::loaded:
        return "loaded";
    case ModuleState::missing:
        return "missing";
    case ModuleState::unknown:
        return "unknown";
    }
    return "unknown";
}

ModuleState ModuleFacts::get(std::string_view name) const {
    const std::string wanted = normalise_module_name(name);
    for (const auto& module : modules) {
        if (module.name == wanted) {
            return module.state;
        }
    }
    return ModuleState::unknown;
}

std::string normalise_module_name(std::string_view name) {
    std::string out(name);
    for (char& c : out) {
        if (c == '-') {
            c = '_';
        }
    }
    return out;
}

} // namespace meshlink::probe
