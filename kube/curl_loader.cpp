// Forwarders for the libcurl entry points kube/ uses, resolved from libcurl.so.4 on first call.
// See curl_loader.hpp for why. Variadic setopt/getinfo calls are forwarded with the argument type libcurl
// itself reads for the option (the option number encodes it: CURLOPTTYPE_*), so no argument is reinterpreted.

#define CURL_DISABLE_TYPECHECK 1 // the typecheck macros would rename the functions defined below
#include "kube/curl_loader.hpp"

#include "util/shared_library.hpp"

#include <curl/curl.h>

#include <cstdarg>

namespace meshlink::kube {
namespace {

using FunctionPointer = void (*)();

struct Library {
    std::optional<std::string> error;
    CURLcode (*global_init)(long) = nullptr;
    CURL* (*easy_init)() = nullptr;
    void (*easy_cleanup)(CURL*) = nullptr;
    void (*easy_reset)(CURL*) = nullptr;
    CURLcode (*easy_perform)(CURL*) = nullptr;
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
    const char* (*easy_strerror)(CURLcode) = nullptr;
    CURLSH* (*share_init)() = nullptr;
    CURLSHcode (*share_cleanup)(CURLSH*) = nullptr;
    CURLSHcode (*share_setopt)(CURLSH*, CURLSHoption, ...) = nullptr;
    curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
    void (*slist_free_all)(curl_slist*) = nullptr;
    curl_version_info_data* (*version_info)(CURLversion) = nullptr;
    // Optional (libcurl 7.73): only names a refused option in an error message.
    const curl_easyoption* (*easy_option_by_id)(CURLoption) = nullptr;
};

Library load() {
    Library library;
    auto so = util::SharedLibrary::open("libcurl.so.4");
    if (!so) {
        library.error = "cannot load libcurl (install the libcurl4 package): " + so.error().message;
        return library;
    }
    const bool complete = so->resolve(library.global_init, "curl_global_init") &&
                          so->resolve(library.easy_init, "curl_easy_init") &&
                          so->resolve(library.easy_cleanup, "curl_easy_cleanup") &&
                          so->resolve(library.easy_reset, "curl_easy_reset") &&
                          so->resolve(library.easy_perform, "curl_easy_perform") &&
                          so->resolve(library.easy_setopt, "curl_easy_setopt") &&
                          so->resolve(library.easy_getinfo, "curl_easy_getinfo") &&
                          so->resolve(library.easy_strerror, "curl_easy_strerror") &&
                          so->resolve(library.share_init, "curl_share_init") &&
                          so->resolve(library.share_cleanup, "curl_share_cleanup") &&
                          so->resolve(library.share_setopt, "curl_share_setopt") &&
                          so->resolve(library.slist_append, "curl_slist_append") &&
                          so->resolve(library.slist_free_all, "curl_slist_free_all") &&
                          so->resolve(library.version_info, "curl_version_info");
    if (!complete) {
        return Library{"libcurl.so.4 has no symbol " + so->missing()}; // `so` unloads it
    }
    (void)so->resolve(library.easy_option_by_id, "curl_easy_option_by_id");
    // libcurl keeps global state for the life of the process.
    so->keep();
    return library;
}

// Thread-safe one-time load (C++ static initialisation).
const Library& curl() {
    static const Library library = load();
    return library;
}

} // namespace

std::optional<std::string> curl_load_error() {
    return curl().error;
}

} // namespace meshlink::kube

using meshlink::kube::curl;
using FunctionPointer = void (*)();

extern "C" {

CURLcode curl_global_init(long flags) {
    return curl().global_init != nullptr ? curl().global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init() {
    return curl().easy_init != nullptr ? curl().easy_init() : nullptr;
}

void curl_easy_cleanup(CURL* handle) {
    if (curl().easy_cleanup != nullptr) {
        curl().easy_cleanup(handle);
    }
}

void curl_easy_reset(CURL* handle) {
    if (curl().easy_reset != nullptr) {
        curl().easy_reset(handle);
    }
}

CURLcode curl_easy_perform(CURL* handle) {
    return curl().easy_perform != nullptr ? curl().easy_perform(handle) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_setopt(CURL* handle, CURLoption option, ...) {
    if (curl().easy_setopt == nullptr) {
        return CURLE_FAILED_INIT;
    }
    va_list args;
    va_start(args, option);
    CURLcode result = CURLE_OK;
    // The same classification libcurl's own curl_easy_setopt applies to read its argument.
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        result = curl().easy_setopt(handle, option, va_arg(args, long));
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        result = curl().easy_setopt(handle, option, va_arg(args, void*));
    } else if (option < CURLOPTTYPE_OFF_T) {
        result = curl().easy_setopt(handle, option, va_arg(args, FunctionPointer));
    } else if (option < CURLOPTTYPE_BLOB) {
        result = curl().easy_setopt(handle, option, va_arg(args, curl_off_t));
    } else {
        result = curl().easy_setopt(handle, option, va_arg(args, curl_blob*));
    }
    va_end(args);
    return result;
}

CURLcode curl_easy_getinfo(CURL* handle, CURLINFO info, ...) {
    if (curl().easy_getinfo == nullptr) {
        return CURLE_FAILED_INIT;
    }
    va_list args;
    va_start(args, info);
    // Every CURLINFO takes a pointer to where the answer goes.
    const CURLcode result = curl().easy_getinfo(handle, info, va_arg(args, void*));
    va_end(args);
    return result;
}

const char* curl_easy_strerror(CURLcode code) {
    return curl().easy_strerror != nullptr ? curl().easy_strerror(code) : "libcurl not loaded";
}

CURLSH* curl_share_init() {
    return curl().share_init != nullptr ? curl().share_init() : nullptr;
}

CURLSHcode curl_share_cleanup(CURLSH* share) {
    return curl().share_cleanup != nullptr ? curl().share_cleanup(share) : CURLSHE_NOT_BUILT_IN;
}

CURLSHcode curl_share_setopt(CURLSH* share, CURLSHoption option, ...) {
    if (curl().share_setopt == nullptr) {
        return CURLSHE_NOT_BUILT_IN;
    }
    va_list args;
    va_start(args, option);
    CURLSHcode result = CURLSHE_OK;
    switch (option) {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE:
        result = curl().share_setopt(share, option, va_arg(args, int)); // a curl_lock_data, promoted
        break;
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC:
        result = curl().share_setopt(share, option, va_arg(args, FunctionPointer));
        break;
    default:
        result = curl().share_setopt(share, option, va_arg(args, void*));
        break;
    }
    va_end(args);
    return result;
}

curl_slist* curl_slist_append(curl_slist* list, const char* value) {
    return curl().slist_append != nullptr ? curl().slist_append(list, value) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
    if (curl().slist_free_all != nullptr) {
        curl().slist_free_all(list);
    }
}

const curl_easyoption* curl_easy_option_by_id(CURLoption id) {
    return curl().easy_option_by_id != nullptr ? curl().easy_option_by_id(id) : nullptr;
}

curl_version_info_data* curl_version_info(CURLversion stamp) {
    return curl().version_info != nullptr ? curl().version_info(stamp) : nullptr;
}

} // extern "C"
