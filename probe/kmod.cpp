#include "probe/kmod.hpp"

#include <libkmod.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

namespace meshlink::probe {
namespace {

struct KmodCtxUnref {
    void operator()(kmod_ctx* ctx) const noexcept { kmod_unref(ctx); }
};
struct KmodModuleUnref {
    void operator()(kmod_module* module) const noexcept { kmod_module_unref(module); }
};
struct KmodListUnref {
    void operator()(kmod_list* list) const noexcept { kmod_module_unref_list(list); }
};
using KmodCtx = std::unique_ptr<kmod_ctx, KmodCtxUnref>;
using KmodList = std::unique_ptr<kmod_list, KmodListUnref>;

const std::vector<std::string_view> k_indexes{"modules.dep.bin", "modules.alias.bin", "modules.symbols.bin",
                                              "modules.builtin.bin"};

// libkmod logs lookups that find nothing as errors; the answer is in the state we report.
void quiet_log(void*, int, const char*, int, const char*, const char*, va_list) {}

bool is_dir(const std::filesystem::path& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

// Live in the host's kernel. libkmod's own answer reads the absolute /sys/module, which is the agent's
// /sys, not necessarily <sys>.
bool is_loaded(const Host& host, const std::string& name) {
    FileText file = read_text(host.in_sys("module/" + name + "/initstate"), 64);
    return file.text && trim(*file.text) == "live";
}

} // namespace

const std::vector<std::string_view>& required_module_indexes() {
    return k_indexes;
}

ModuleFacts probe_modules(const Host& host, std::string_view release,
                          const std::vector<std::string_view>& names) {
    ModuleFacts facts;
    for (auto name : names) {
        facts.modules.push_back({normalise_module_name(name), ModuleState::unknown});
    }
    const auto mark_loaded = [&] {
        for (auto& module : facts.modules) {
            if (is_loaded(host, module.name)) {
                module.state = ModuleState::loaded;
            }
        }
    };
    if (release.empty()) {
        facts.error = "the kernel release is unknown, so its module tree is too";
        mark_loaded();
        return facts;
    }
    // EL9 and Debian keep modules in /usr/lib/modules with /lib a symlink; older trees only in /lib/modules.
    std::filesystem::path dir;
    for (const char* base : {"/lib/modules/", "/usr/lib/modules/"}) {
        const auto candidate = host.in_root(std::string(base) + std::string(release));
        if (is_dir(candidate)) {
            dir = candidate;
            break;
        }
    }
    if (dir.empty()) {
        facts.error = "no module tree: neither " +
                      host.in_root("/lib/modules/" + std::string(release)).string() + " nor " +
                      host.in_root("/usr/lib/modules/" + std::string(release)).string() + " exists";
        mark_loaded();
        return facts;
    }
    facts.directory = dir.string();

    // libkmod never reads the text files: without depmod's .bin indexes every lookup would silently say
    // "not found", which is not the same as missing.
    std::string absent;
    for (auto index : k_indexes) {
        struct stat st {};
        if (::stat((dir / index).c_str(), &st) != 0) {
            absent += (absent.empty() ? "" : ", ") + std::string(index);
        }
    }
    if (!absent.empty()) {
        facts.error =
            facts.directory + ": module indexes missing (" + absent + "): run depmod " + std::string(release);
        mark_loaded();
        return facts;
    }

    // The host's modprobe.d, not ours: blacklists and install commands there are the node's.
    std::vector<std::string> config_dirs;
    for (const char* path : {"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
                             "/lib/modprobe.d", "/usr/lib/modprobe.d"}) {
        config_dirs.push_back(host.in_root(path).string());
    }
    std::vector<const char*> config_paths;
    for (const auto& path : config_dirs) {
        config_paths.push_back(path.c_str());
    }
    config_paths.push_back(nullptr);

    KmodCtx ctx(kmod_new(facts.directory.c_str(), config_paths.data()));
    if (!ctx) {
        facts.error = facts.directory + ": kmod_new failed: " + std::strerror(errno);
        return facts;
    }
    kmod_set_log_fn(ctx.get(), &quiet_log, nullptr);
    if (const int err = kmod_load_resources(ctx.get()); err < 0) {
        facts.error = facts.directory + ": cannot load the module indexes: " + std::strerror(-err);
        mark_loaded();
        return facts;
    }

    for (auto& module : facts.modules) {
        kmod_list* raw = nullptr;
        const int err = kmod_module_new_from_lookup(ctx.get(), module.name.c_str(), &raw);
        KmodList found(raw);
        if (err < 0) {
            module.state = is_loaded(host, module.name) ? ModuleState::loaded : ModuleState::unknown;
            if (facts.error.empty()) {
                facts.error = "looking up " + module.name + ": " + std::strerror(-err);
            }
            continue;
        }
        if (!found) {
            module.state = is_loaded(host, module.name) ? ModuleState::loaded : ModuleState::missing;
            continue;
        }
        // Builtin first: libkmod answers that from modules.builtin.bin, and the filter drops builtins.
        kmod_list* raw_filtered = nullptr;
        KmodList loadable_only;
        if (kmod_module_apply_filter(ctx.get(), KMOD_FILTER_BUILTIN, found.get(), &raw_filtered) == 0) {
            loadable_only.reset(raw_filtered);
        }
        if (!loadable_only) {
            module.state = ModuleState::builtin;
            continue;
        }
        if (is_loaded(host, module.name)) {
            module.state = ModuleState::loaded;
            continue;
        }
        bool has_path = false;
        for (kmod_list* entry = loadable_only.get(); entry != nullptr && !has_path;
             entry = kmod_list_next(loadable_only.get(), entry)) {
            std::unique_ptr<kmod_module, KmodModuleUnref> mod(kmod_module_get_module(entry));
            has_path = mod && kmod_module_get_path(mod.get()) != nullptr;
        }
        module.state = has_path ? ModuleState::loadable : ModuleState::missing;
    }
    return facts;
}

} // namespace meshlink::probe
