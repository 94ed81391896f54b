#include "kube/status.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace meshlink::kube;
using namespace meshlink::util;

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

namespace {

// A Status body shaped as kube-apiserver sends it.
std::string status_body(int code, const std::string& reason, const std::string& message,
                        const std::string& kind = "secrets", const std::string& name = "cilium-ca") {
    nlohmann::json body = {{"kind", "Status"},
                           {"apiVersion", "v1"},
                           {"metadata", nlohmann::json::object()},
                           {"status", "Failure"},
                           {"message", message},
                           {"reason", reason},
                           {"details", {{"name", name}, {"kind", kind}}},
                           {"code", code}};
    return body.dump();
}

} // namespace

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(every_reason_maps_to_its_kind_and_message) {
    struct Case {
        int code;
        const char* reason;
        const char* message;
        ErrorKind kind;
    };
    const Case cases[] = {
        {404, "NotFound", "secrets \"cilium-ca\" not found", ErrorKind::not_found},
        {409, "AlreadyExists", "secrets \"cilium-ca\" already exists", ErrorKind::already_exists},
        {409, "Conflict",
         "Operation cannot be fulfilled on secrets \"cilium-ca\": the object has been modified; please apply "
         "your "
         "changes to the latest version and try again",
         ErrorKind::conflict},
        {422, "Invalid",
         "Secret \"cilium-ca\" is invalid: data[tls.crt]: Invalid value: \"x\": illegal base64",
         ErrorKind::invalid},
        {400, "BadRequest", "strict decoding error: unknown field \"dta\"", ErrorKind::bad_request},
        {403, "Forbidden",
         "secrets \"cilium-ca\" is forbidden: User \"bob\" cannot get resource \"secrets\" in API group \"\" "
         "in "
         "the namespace \"kube-system\"",
         ErrorKind::forbidden},
        {401, "Unauthorized", "Unauthorized", ErrorKind::unauthorized},
        {429, "TooManyRequests", "Too many requests, please try again later.", ErrorKind::too_many_requests},
        {504, "Timeout", "Timeout: request did not complete within requested timeout", ErrorKind::timeout},
        {500, "ServerTimeout", "The list operation could not be completed at this time", ErrorKind::timeout},
        {503, "ServiceUnavailable", "the server is shutting down", ErrorKind::unavailable},
        {500, "InternalError", "Internal error occurred: etcdserver: leader changed", ErrorKind::unavailable},
    };
    for (const auto& c : cases) {
        const std::string path = "/api/v1/namespaces/kube-system/secrets/cilium-ca";
        Error error = status_error("GET", path, c.code, status_body(c.code, c.reason, c.message));
        BOOST_TEST(error.kind == c.kind, c.reason);
        BOOST_TEST(error.http_status == c.code);
        BOOST_TEST(error.message ==
                   "GET " + path + ": " + std::to_string(c.code) + " " + c.reason + ": " + c.message);
    }
}

BOOST_AUTO_TEST_CASE(the_example_from_the_style_guide_reads_exactly) {
    Error error = status_error("GET", "/api/v1/namespaces/kube-system/secrets/cilium-ca", 404,
                               status_body(404, "NotFound", "secrets \"cilium-ca\" not found"));
    BOOST_TEST(error.message == "GET /api/v1/namespaces/kube-system/secrets/cilium-ca: 404 NotFound: secrets "
                                "\"cilium-ca\" not found");
}

BOOST_AUTO_TEST_CASE(status_without_reason_takes_it_from_the_code) {
    nlohmann::json body = {{"kind", "Status"},
                           {"apiVersion", "v1"},
                           {"status", "Failure"},
                           {"message", "no such thing"},
                           {"code", 404}};
    Error error = status_error("DELETE", "/api/v1/nodes/n1", 404, body.dump());
    BOOST_TEST(error.kind == ErrorKind::not_found);
    BOOST_TEST(error.message == "DELETE /api/v1/nodes/n1: 404 NotFound: no such thing");
}

BOOST_AUTO_TEST_CASE(non_status_bodies_still_give_a_clear_message) {
    Error html =
        status_error("GET", "/version", 502, "<html>\n<body>\n<h1>502 Bad Gateway</h1>\n</body></html>\n");
    BOOST_TEST(html.kind == ErrorKind::unavailable);
    BOOST_TEST(html.message.starts_with("GET /version: 502 BadGateway: "));
    BOOST_TEST(html.message.find("<h1>502 Bad Gateway</h1>") != std::string::npos);
    BOOST_TEST(html.message.find('\n') == std::string::npos);

    Error empty = status_error("GET", "/api", 503, "");
    BOOST_TEST(empty.kind == ErrorKind::unavailable);
    BOOST_TEST(empty.message == "GET /api: 503 ServiceUnavailable: the server is temporarily unavailable");

    Error text = status_error("POST", "/api/v1/namespaces", 403, "forbidden by proxy policy");
    BOOST_TEST(text.kind == ErrorKind::forbidden);
    BOOST_TEST(text.message.starts_with("POST /api/v1/namespaces: 403 Forbidden: "));
    BOOST_TEST(text.message.find("forbidden by proxy policy") != std::string::npos);

    std::string long_body(5000, 'x');
    Error truncated = status_error("GET", "/x", 500, long_body);
    BOOST_TEST(truncated.message.size() < 400U);
    BOOST_TEST(truncated.message.find("...") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_details_are_decoded) {
    nlohmann::json body = {
        {"kind", "Status"},
        {"status", "Failure"},
        {"reason", "TooManyRequests"},
        {"message", "slow down"},
        {"details", {{"name", "x"}, {"group", "apps"}, {"kind", "deployments"}, {"retryAfterSeconds", 2}}},
        {"code", 429}};
    auto status = parse_api_status(body.dump());
    BOOST_TEST_REQUIRE(status.has_value());
    BOOST_TEST(status->reason == "TooManyRequests");
    BOOST_TEST(status->group == "apps");
    BOOST_TEST(status->kind == "deployments");
    BOOST_TEST(status->code == 429);
    BOOST_TEST(status->retry_after_seconds.value() == 2);
    BOOST_TEST(!parse_api_status(R"({"kind":"Pod"})").has_value());
    BOOST_TEST(!parse_api_status("garbage").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
