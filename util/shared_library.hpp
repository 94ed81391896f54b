#pragma once
// A shared library opened on first use (dlopen) rather than linked, so that a process which never needs it
// never maps it or its dependencies: libcurl for cluster access (curl_loader.cpp), libsystemd for the agent's
// journal logging (node-agent/serve/logging.cpp). Callers keep what they resolve in a function-local static,
// so each library is loaded at most once.

#include "util/error.hpp"

#include <dlfcn.h>

#include <memory>
#include <string>

namespace meshlink::util {

class SharedLibrary {
public:
    // dlopen(soname, RTLD_NOW | RTLD_LOCAL): the library's own dependencies stay out of the global symbol
    // namespace. The error carries dlerror()'s reason ("libx.so.1: cannot open shared object file: ...").
    static Result<SharedLibrary> open(const char* soname) {
        void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* reason = ::dlerror();
            return fail(ErrorKind::not_found,
                        reason != nullptr ? reason : std::string(soname) + ": not found");
        }
        return SharedLibrary(handle);
    }

    // Sets `target` to the function `name`, or to nullptr when the library lacks it; missing() then names
    // the first symbol not found. Returns whether it was found, so lookups chain with &&.
    template <typename F>
    bool resolve(F& target, const char* name) {
        // dlsym returns functions as void*; POSIX guarantees the round trip.
        target = reinterpret_cast<F>(::dlsym(m_handle.get(), name));
        if (target == nullptr && m_missing.empty()) {
            m_missing = name;
        }
        return target != nullptr;
    }

    [[nodiscard]] const std::string& missing() const { return m_missing; }

    // Keeps the library loaded for the life of the process, for functions resolved from it to stay callable
    // (from other threads, from static destructors). Without it, destruction unloads the library.
    void keep() { (void)m_handle.release(); }

private:
    struct Closer {
        void operator()(void* handle) const noexcept { ::dlclose(handle); }
    };
    explicit SharedLibrary(void* handle) : m_handle(handle) {}

    std::unique_ptr<void, Closer> m_handle;
    std::string m_missing;
};

} // namespace meshlink::util
