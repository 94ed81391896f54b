// <utility> first: Boost 1.74's Asio headers use std::exchange without including it.
// clang-format off
#include <utility>
// clang-format on

#include "tests/integration/fakekube/https_client.hpp"

#include "util/base64.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>
#include <yaml-cpp/yaml.h>

namespace meshlink::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

std::string decoded(const YAML::Node& node) {
    auto text = util::base64_decode(node.as<std::string>());
    BOOST_TEST_REQUIRE(text.has_value());
    return *text;
}

struct Connection {
    net::io_context ioc;
    ssl::context tls{ssl::context::tls_client};
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;

    Connection(int port, const std::string& ca_pem, const Credentials& credentials) {
        tls.add_certificate_authority(net::buffer(ca_pem));
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
        if (!credentials.cert_pem.empty()) {
            tls.use_certificate(net::buffer(credentials.cert_pem), ssl::context::pem);
            tls.use_private_key(net::buffer(credentials.key_pem), ssl::context::pem);
        }
        stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, tls);
        beast::get_lowest_layer(*stream).connect(
            tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
        stream->handshake(ssl::stream_base::client);
    }

    http::request<http::string_body> message(const std::string& method, const std::string& target,
                                             const std::string& body, const std::string& content_type,
                                             const std::string& accept, const Credentials& credentials) {
        http::request<http::string_body> request{http::string_to_verb(method), target, 11};
        request.set(http::field::host, "127.0.0.1");
        request.set(http::field::accept, accept);
        if (!body.empty()) {
            request.set(http::field::content_type, content_type);
            request.body() = body;
        }
        if (!credentials.token.empty()) {
            request.set(http::field::authorization, "Bearer " + credentials.token);
        }
        request.keep_alive(false);
        request.prepare_payload();
        return request;
    }
};

HttpResponse convert(const http::response<http::string_body>& response) {
    HttpResponse out;
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
        out.headers.emplace(name, std::string(field.value()));
    }
    out.body = response.body();
    return out;
}

class StreamingWatch : public HttpsClient::Watch {
public:
    StreamingWatch(std::unique_ptr<Connection> connection) : m_connection(std::move(connection)) {
        m_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        http::read_header(*m_connection->stream, m_buffer, m_parser);
        BOOST_TEST_REQUIRE(m_parser.get().result_int() == 200U);
    }
    json next_event() override {
        for (;;) {
            std::string& body = m_parser.get().body();
            if (auto newline = body.find('\n'); newline != std::string::npos) {
                json event = json::parse(body.substr(0, newline));
                body.erase(0, newline + 1);
                return event;
            }
            BOOST_TEST_REQUIRE(!m_parser.is_done(), "the watch ended");
            http::read_some(*m_connection->stream, m_buffer, m_parser);
        }
    }

private:
    std::unique_ptr<Connection> m_connection;
    beast::flat_buffer m_buffer;
    http::response_parser<http::string_body> m_parser;
};

} // namespace

Credentials Credentials::admin(const FakekubeProcess& server) {
    YAML::Node config = YAML::LoadFile(server.kubeconfig().string());
    YAML::Node user = config["users"][0]["user"];
    return {decoded(user["client-certificate-data"]), decoded(user["client-key-data"]), ""};
}

HttpsClient::HttpsClient(const FakekubeProcess& server, Credentials credentials)
    : m_port(server.port()), m_credentials(std::move(credentials)) {
    auto ca = server.ca_pem();
    BOOST_TEST_REQUIRE(ca.has_value());
    m_ca_pem = *ca;
}

HttpResponse HttpsClient::request(const std::string& method, const std::string& target,
                                  const std::string& body, const std::string& content_type,
                                  const std::string& accept) {
    Connection connection(m_port, m_ca_pem, m_credentials);
    auto message = connection.message(method, target, body, content_type, accept, m_credentials);
    http::write(*connection.stream, message);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(*connection.stream, buffer, response);
    return convert(response);
}

std::unique_ptr<HttpsClient::Watch> HttpsClient::watch(const std::string& target) {
    auto connection = std::make_unique<Connection>(m_port, m_ca_pem, m_credentials);
    auto message = connection->message("GET", target, "", "", "application/json", m_credentials);
    http::write(*connection->stream, message);
    return std::make_unique<StreamingWatch>(std::move(connection));
}

Kubectl::Kubectl(const FakekubeProcess& server)
    : m_env(environment_with({"KUBECONFIG=" + server.kubeconfig().string(),
                              "KUBECACHEDIR=" + (m_dir.path() / "cache").string(),
                              "HOME=" + m_dir.path().string()})) {}

CommandResult Kubectl::run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"kubectl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv, m_env);
    BOOST_TEST_REQUIRE(result.has_value(), (result ? "" : result.error().message));
    return *result;
}

CommandResult Kubectl::shell(const std::string& script) const {
    auto result = run_command({"sh", "-c", script}, m_env);
    BOOST_TEST_REQUIRE(result.has_value(), (result ? "" : result.error().message));
    return *result;
}

std::string Kubectl::file(const std::string& name, const std::string& text) const {
    return m_dir.write(name, text).string();
}

} // namespace meshlink::test
