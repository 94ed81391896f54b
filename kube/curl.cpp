#include "kube/curl.hpp"

#include "kube/curl_loader.hpp"

namespace meshlink::kube::curl {
namespace {

// ": <why libcurl is not loaded>" when it could not be loaded on first use, else "".
std::string load_failure() {
#ifdef MESHLINK_LAZY_LIBCURL
    if (auto error = curl_load_error()) {
        return ": " + *error;
    }
#endif
    return {};
}

} // namespace

bool Slist::append(const std::string& line) {
    curl_slist* extended = curl_slist_append(m_list.get(), line.c_str());
    if (extended == nullptr) {
        return false;
    }
    // curl_slist_append returns the same head once the list exists; only the first call changes it.
    if (m_list.get() != extended) {
        (void)m_list.release();
        m_list.reset(extended);
    }
    return true;
}

void ensure_global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string option_name(CURLoption option) {
    if (const curl_easyoption* known = curl_easy_option_by_id(option);
        known != nullptr && known->name != nullptr) {
        return std::string("CURLOPT_") + known->name;
    }
    return "curl option " + std::to_string(static_cast<int>(option));
}

std::string libcurl_version() {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    return info != nullptr && info->version != nullptr ? std::string("libcurl ") + info->version
                                                       : std::string("libcurl (version unknown)");
}

std::string Options::failure() const {
    if (m_code == CURLE_OK) {
        return {};
    }
    std::string text =
        libcurl_version() + " refused " + option_name(m_option) + ": " + curl_easy_strerror(m_code);
    if (m_code == CURLE_UNKNOWN_OPTION || m_code == CURLE_NOT_BUILT_IN) {
        text +=
            "; this libcurl is too old or built without the feature (meshlink needs libcurl 7.85 or newer "
            "with OpenSSL, HTTP/2 and zlib; the release binaries carry their own)";
    }
    return text;
}

util::Result<std::unique_ptr<Share>> Share::create() {
    ensure_global_init();
    std::unique_ptr<Share> share(new Share());
    share->m_share = curl_share_init();
    if (share->m_share == nullptr) {
        return util::fail(util::ErrorKind::generic, "curl_share_init failed" + load_failure());
    }
    // Each result is checked: without the lock functions, handles on several threads would corrupt the cache.
    const std::pair<const char*, CURLSHcode> results[] = {
        {"CURLSHOPT_LOCKFUNC", curl_share_setopt(share->m_share, CURLSHOPT_LOCKFUNC, &Share::lock)},
        {"CURLSHOPT_UNLOCKFUNC", curl_share_setopt(share->m_share, CURLSHOPT_UNLOCKFUNC, &Share::unlock)},
        {"CURLSHOPT_USERDATA", curl_share_setopt(share->m_share, CURLSHOPT_USERDATA, share.get())},
        {"CURLSHOPT_SHARE", curl_share_setopt(share->m_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS)},
    };
    for (const auto& [name, code] : results) {
        if (code != CURLSHE_OK) {
            return util::fail(util::ErrorKind::generic, libcurl_version() + " refused " + name +
                                                            " (curl_share_setopt error " +
                                                            std::to_string(static_cast<int>(code)) + ")");
        }
    }
    return share;
}

Share::~Share() {
    if (m_share != nullptr) {
        curl_share_cleanup(m_share);
    }
}

void Share::lock(CURL* /*handle*/, curl_lock_data data, curl_lock_access /*access*/, void* self) {
    static_cast<Share*>(self)->m_mutexes[data].lock();
}

void Share::unlock(CURL* /*handle*/, curl_lock_data data, void* self) {
    static_cast<Share*>(self)->m_mutexes[data].unlock();
}

void HandlePool::Lease::discard() noexcept {
    m_handle.reset();
}

HandlePool::Lease::~Lease() {
    if (m_handle) {
        std::lock_guard lock(m_pool->m_mutex);
        m_pool->m_idle.push_back(std::move(m_handle));
    }
}

util::Result<HandlePool::Lease> HandlePool::acquire() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_idle.empty()) {
            Easy handle = std::move(m_idle.back());
            m_idle.pop_back();
            return Lease(*this, std::move(handle));
        }
    }
    ensure_global_init();
    Easy handle(curl_easy_init());
    if (!handle) {
        return util::fail(util::ErrorKind::generic, "curl_easy_init failed" + load_failure());
    }
    return Lease(*this, std::move(handle));
}

} // namespace meshlink::kube::curl
