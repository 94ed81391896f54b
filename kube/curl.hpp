#pragma once
// RAII owners for libcurl handles (internal to kube/; callers use kube/client.hpp).

#include "util/error.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace meshlink::kube::curl {

struct EasyDeleter {
    void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};

// A curl_slist built by appending; owns the list.
class Slist {
public:
    // Appends a copy of `line`. Returns false when libcurl is out of memory.
    bool append(const std::string& line);
    [[nodiscard]] curl_slist* get() const noexcept { return m_list.get(); }

private:
    std::unique_ptr<curl_slist, SlistDeleter> m_list;
};

// A share handle for the DNS cache across the easy handles of one client, with the locking libcurl
// requires when handles run on several threads. (TLS sessions are not resumed: see client.cpp.)
class Share {
public:
    static util::Result<std::unique_ptr<Share>> create();
    Share(const Share&) = delete;
    Share& operator=(const Share&) = delete;
    ~Share();
    [[nodiscard]] CURLSH* get() const noexcept { return m_share; }

private:
    Share() = default;
    static void lock(CURL* handle, curl_lock_data data, curl_lock_access access, void* self);
    static void unlock(CURL* handle, curl_lock_data data, void* self);

    CURLSH* m_share = nullptr;
    std::mutex m_mutexes[CURL_LOCK_DATA_LAST];
};

// Idle easy handles, each keeping its own live connections: a request leases one, and returning it keeps
// the connection for the next request. Handles are created on demand, so concurrent callers each get one.
class HandlePool {
public:
    class Lease {
    public:
        Lease(HandlePool& pool, Easy handle) : m_pool(&pool), m_handle(std::move(handle)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) noexcept = default;
        ~Lease();
        [[nodiscard]] CURL* get() const noexcept { return m_handle.get(); }
        // Closes the handle instead of returning it to the pool (its options could not be reset).
        void discard() noexcept;

    private:
        HandlePool* m_pool;
        Easy m_handle;
    };

    util::Result<Lease> acquire();

private:
    std::mutex m_mutex;
    std::vector<Easy> m_idle;
};

// curl_easy_setopt with every result checked. A failed setopt (an option this libcurl lacks, a value it
// refuses, no memory) must never be dropped silently: on an old system libcurl a kubeconfig's CA or client
// certificate would simply not be used. The first failure is kept and stops the request.
class Options {
public:
    explicit Options(CURL* handle) noexcept : m_handle(handle) {}
    // Sets `option` unless an earlier call failed.
    template <typename T>
    Options& set(CURLoption option, T value) noexcept {
        if (m_code == CURLE_OK) {
            m_code = curl_easy_setopt(m_handle, option, value);
            m_option = option;
        }
        return *this;
    }
    [[nodiscard]] bool ok() const noexcept { return m_code == CURLE_OK; }
    [[nodiscard]] CURLcode code() const noexcept { return m_code; }
    // "libcurl 7.81.0 refused CURLOPT_PROTOCOLS_STR: An unknown option was passed in to libcurl; ..." for the
    // first failure ("" when none).
    [[nodiscard]] std::string failure() const;

private:
    CURL* m_handle;
    CURLcode m_code = CURLE_OK;
    CURLoption m_option = CURLOPT_LASTENTRY;
};

// "CURLOPT_<NAME>" for an option (libcurl's own name table), or "curl option <number>" when it has none.
std::string option_name(CURLoption option);

// "libcurl <version>" of the library in use (linked, or loaded on first use).
std::string libcurl_version();

// curl_global_init, once per process, before the first handle (it is not thread-safe on older libcurl).
void ensure_global_init();

} // namespace meshlink::kube::curl
