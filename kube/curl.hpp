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

    private:
        HandlePool* m_pool;
        Easy m_handle;
    };

    util::Result<Lease> acquire();

private:
    std::mutex m_mutex;
    std::vector<Easy> m_idle;
};

// curl_global_init, once per process, before the first handle (it is not thread-safe on older libcurl).
void ensure_global_init();

} // namespace meshlink::kube::curl
