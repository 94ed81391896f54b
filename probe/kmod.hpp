#pragma once
// Whether the kernel modules Cilium uses are built in, loadable, loaded or missing, asked through libkmod
// against the host's module tree (<root>/lib/modules/<release>, passed explicitly) and the host's modprobe.d.

#include "probe/host.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace meshlink::probe {

enum class ModuleState {
    builtin,  // in modules.builtin: part of the kernel image
    loadable, // in modules.dep: a .ko file modprobe can load
    loaded,   // live in the running kernel (<sys>/module/<name>/initstate)
    missing,  // neither: the kernel cannot have it
    unknown,  // the module indexes are absent or unreadable
};

// "builtin", "loadable", "loaded", "missing", "unknown".
std::string_view to_string(ModuleState state);

// kmod's normalised module name: '-' becomes '_'.
std::string normalise_module_name(std::string_view name);

struct ModuleInfo {
    std::string name; // kmod's normalised name ('-' becomes '_')
    ModuleState state = ModuleState::unknown;
};

struct ModuleFacts {
    std::string directory; // the module tree asked; empty when none exists
    std::string error;     // why states are unknown
    std::vector<ModuleInfo> modules;

    [[nodiscard]] ModuleState get(std::string_view name) const;
};

// The index files libkmod reads (it never reads the text files; depmod writes both).
const std::vector<std::string_view>& required_module_indexes();

// Looks up each of `names` for kernel `release`. Without the binary indexes every module is unknown, except
// those sysfs shows live, which are loaded.
ModuleFacts probe_modules(const Host& host, std::string_view release,
                          const std::vector<std::string_view>& names);

} // namespace meshlink::probe
