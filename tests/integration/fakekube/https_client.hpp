#pragma once
// A deliberately small HTTPS client (Boost.Beast, one connection per request) so the tests see exactly
// what fakekube sends: status, headers and body, for any credentials, plus a streaming watch reader.
// Also the kubectl helper the tests share.

#include "tests/integration/support/fakekube_process.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshlink::test {

using json = nlohmann::json;

struct HttpResponse {
    int status = 0;
    std::multimap<std::string, std::string> headers; // names lower-cased
    std::string body;

    [[nodiscard]] json json_body() const { return json::parse(body); }
    [[nodiscard]] std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// Who the client claims to be.
struct Credentials {
    std::string cert_pem; // client certificate (empty: none)
    std::string key_pem;
    std::string token; // bearer token (empty: none)

    static Credentials admin(const FakekubeProcess& server); // from fakekube's kubeconfig
    static Credentials none() { return {}; }
    static Credentials bearer(std::string token) { return {"", "", std::move(token)}; }
};

class HttpsClient {
public:
    HttpsClient(const FakekubeProcess& server, Credentials credentials);

    // Throws boost::system::system_error on connection failures (e.g. a reset).
    HttpResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                         const std::string& content_type = "application/json",
                         const std::string& accept = "application/json");
    // The same with a JSON body.
    HttpResponse send(const std::string& method, const std::string& target, const json& body,
                      const std::string& content_type = "application/json") {
        return request(method, target, body.dump(), content_type);
    }

    // A watch kept open: next_event() blocks until fakekube sends the next event line.
    class Watch {
    public:
        virtual ~Watch() = default;
        virtual json next_event() = 0;
    };
    std::unique_ptr<Watch> watch(const std::string& target);

private:
    int m_port;
    std::string m_ca_pem;
    Credentials m_credentials;
};

// kubectl against `server`, with a private cache and home so nothing outside the test is touched.
class Kubectl {
public:
    explicit Kubectl(const FakekubeProcess& server);
    CommandResult run(const std::vector<std::string>& args) const;
    // `sh -c script` with kubectl's environment, for pipes into kubectl.
    CommandResult shell(const std::string& script) const;
    // Writes `text` into the test's scratch folder and returns the path.
    [[nodiscard]] std::string file(const std::string& name, const std::string& text) const;

private:
    TempDirectory m_dir;
    std::vector<std::string> m_env;
};

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace meshlink::test
