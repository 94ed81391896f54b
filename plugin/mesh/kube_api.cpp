#include "plugin/mesh/kube_api.hpp"

#include "kube/curl_connect.hpp"
#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "util/fd.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace meshlink::plugin::mesh {
namespace {

struct Route {
    std::string_view group;
    std::string_view version;
    std::string_view plural;
    std::string_view kind;
    bool namespaced = true;
};

Route route(Kind kind) {
    switch (kind) {
    case Kind::config_map:
        return {"", "v1", "configmaps", "ConfigMap"};
    case Kind::secret:
        return {"", "v1", "secrets", "Secret"};
    case Kind::service:
        return {"", "v1", "services", "Service"};
    case Kind::endpoints:
        return {"", "v1", "endpoints", "Endpoints"};
    case Kind::endpoint_slice:
        return {"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"};
    case Kind::deployment:
        return {"apps", "v1", "deployments", "Deployment"};
    case Kind::daemon_set:
        return {"apps", "v1", "daemonsets", "DaemonSet"};
    case Kind::pod:
        return {"", "v1", "pods", "Pod"};
    case Kind::node:
        return {"", "v1", "nodes", "Node", false};
    }
    return {"", "v1", "configmaps", "ConfigMap"};
}

std::string path(Kind kind, std::string_view ns, std::string_view name = {}) {
    const Route r = route(kind);
    return kube::api_path(r.group, r.version, r.plural, r.namespaced ? ns : std::string_view(), name);
}

class KubeMeshApi final : public MeshApi {
public:
    explicit KubeMeshApi(std::shared_ptr<kube::Client> client) : m_client(std::move(client)) {}

    util::Result<std::optional<json>> get(Kind kind, std::string_view ns, std::string_view name) override {
        auto object = m_client->get(path(kind, ns, name));
        if (object) {
            return std::optional<json>(std::move(*object));
        }
        if (object.error().kind == util::ErrorKind::not_found) {
            return std::optional<json>();
        }
        return std::unexpected(object.error());
    }

    util::Result<std::vector<json>> list(Kind kind, std::string_view ns,
                                         std::string_view label_selector) override {
        kube::ListOptions options;
        options.label_selector = std::string(label_selector);
        auto list = m_client->list(path(kind, ns), options);
        if (!list) {
            return std::unexpected(list.error());
        }
        std::vector<json> out;
        for (auto& item : (*list)["items"]) {
            out.push_back(std::move(item));
        }
        return out;
    }

    util::Result<json> create(Kind kind, std::string_view ns, const json& object) override {
        return m_client->create(path(kind, ns), object, write_options());
    }

    util::Result<json> update(Kind kind, std::string_view ns, const json& object) override {
        return m_client->update(path(kind, ns, name_of(object)), object, write_options());
    }

    util::Result<json> patch(Kind kind, std::string_view ns, std::string_view name, kube::PatchType type,
                             const json& patch) override {
        return m_client->patch(path(kind, ns, name), type, patch, write_options());
    }

    util::Result<void> remove(Kind kind, std::string_view ns, std::string_view name,
                              std::string_view resource_version) override {
        kube::DeleteOptions options;
        options.precondition_resource_version = std::string(resource_version);
        auto removed = m_client->remove(path(kind, ns, name), options);
        if (!removed && removed.error().kind != util::ErrorKind::not_found) {
            return std::unexpected(removed.error());
        }
        return {};
    }

private:
    static kube::WriteOptions write_options() {
        kube::WriteOptions options;
        options.field_manager = std::string(defaults::k_field_manager);
        return options;
    }
    std::shared_ptr<kube::Client> m_client;
};

struct SslCtxDeleter {
    void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct SslDeleter {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
// A TCP connection to host:port within `timeout`, resolved and connected by kube/ (as API requests are:
// /etc/hosts then DNS, no NSS modules in the static release binary), then blocking with timeouts for OpenSSL.
util::Result<util::Fd> connect_tcp(const std::string& host, int port, std::chrono::milliseconds timeout) {
    auto fd = kube::connect_tcp(host, port, timeout);
    if (!fd) {
        return std::unexpected(fd.error());
    }
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

class SystemHost final : public MeshHost {
public:
    util::Result<util::SubprocessResult> run(const ToolRun& run) override {
        if (run.argv.empty()) {
            return util::fail(util::ErrorKind::usage, "no program to run");
        }
        util::SubprocessSpec spec;
        spec.program = run.argv.front();
        spec.args.assign(run.argv.begin() + 1, run.argv.end());
        spec.env = util::environment_with(run.env);
        spec.stdin_data = run.stdin_data;
        spec.timeout = run.timeout;
        return util::run_subprocess(spec);
    }

    bool available(const std::string& program) override { return util::find_executable(program).has_value(); }

    util::Result<std::string> server_certificate(const std::string& host, int port,
                                                 std::chrono::milliseconds timeout) override {
        auto fd = connect_tcp(host, port, timeout);
        if (!fd) {
            return std::unexpected(fd.error());
        }
        std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx(SSL_CTX_new(TLS_client_method()));
        if (!ctx) {
            return util::fail(util::ErrorKind::tls, "SSL_CTX_new failed");
        }
        // No verification here: the caller reads the certificate to judge its SANs.
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
        std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(ctx.get()));
        if (!ssl || SSL_set_fd(ssl.get(), fd->get()) != 1) {
            return util::fail(util::ErrorKind::tls, "SSL_new failed");
        }
        if (SSL_connect(ssl.get()) != 1) {
            const unsigned long code = ERR_get_error();
            char buffer[256] = {};
            ERR_error_string_n(code, buffer, sizeof(buffer));
            return util::fail(util::ErrorKind::tls, fmt::format("TLS handshake with {}:{}: {}", host, port,
                                                                code != 0 ? buffer : "connection closed"));
        }
        kube::pki::X509Ptr cert(SSL_get1_peer_certificate(ssl.get()));
        SSL_shutdown(ssl.get());
        if (!cert) {
            return util::fail(util::ErrorKind::tls,
                              fmt::format("{}:{} presented no certificate", host, port));
        }
        return kube::pki::to_pem(*cert);
    }

    std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
    void sleep(std::chrono::milliseconds duration) override { std::this_thread::sleep_for(duration); }
};

} // namespace

std::string_view plural(Kind kind) {
    return route(kind).plural;
}
std::string_view kind_name(Kind kind) {
    return route(kind).kind;
}
std::string_view api_version(Kind kind) {
    switch (kind) {
    case Kind::endpoint_slice:
        return "discovery.k8s.io/v1";
    case Kind::deployment:
    case Kind::daemon_set:
        return "apps/v1";
    default:
        return "v1";
    }
}

bool transient(const util::Error& error) {
    switch (error.kind) {
    case util::ErrorKind::unavailable:
    case util::ErrorKind::too_many_requests:
    case util::ErrorKind::timeout:
    case util::ErrorKind::conflict:
        return true;
    default:
        return error.http_status >= 500;
    }
}

long long integer(const json& object, std::string_view key, long long fallback) {
    const json& value = util::json_path::child(object, key);
    return value.is_number_integer() ? value.get<long long>() : fallback;
}

std::string name_of(const json& object) {
    return text(child(object, "metadata"), "name");
}
std::string label(const json& object, std::string_view key) {
    return text(child(child(object, "metadata"), "labels"), key);
}
std::string annotation(const json& object, std::string_view key) {
    return text(child(child(object, "metadata"), "annotations"), key);
}

std::unique_ptr<MeshApi> make_kube_api(std::shared_ptr<kube::Client> client) {
    return std::make_unique<KubeMeshApi>(std::move(client));
}

std::unique_ptr<MeshHost> make_system_host() {
    return std::make_unique<SystemHost>();
}

} // namespace meshlink::plugin::mesh
