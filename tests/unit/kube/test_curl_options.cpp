// Every libcurl option is set through curl::Options: a refused option is an error that names it (an old
// system libcurl must never silently drop a CA or a client certificate), and nothing after it is set.

#include "kube/curl.hpp"
#include "kube/http_transport.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace meshlink::kube;

namespace {

struct Handle {
    curl::Easy easy;
    Handle() {
        curl::ensure_global_init();
        easy.reset(curl_easy_init());
        BOOST_TEST_REQUIRE(easy.get() != nullptr);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(curl_options)

BOOST_AUTO_TEST_CASE(a_refused_value_is_an_error_naming_the_option) {
    Handle handle;
    curl::Options options(handle.easy.get());
    options.set(CURLOPT_PROTOCOLS_STR, "no-such-protocol").set(CURLOPT_URL, "https://example.invalid/");
    BOOST_TEST(!options.ok());
    BOOST_TEST(options.failure().find("refused CURLOPT_PROTOCOLS_STR") != std::string::npos,
               options.failure());
    BOOST_TEST(options.failure().starts_with("libcurl "), options.failure());
}

BOOST_AUTO_TEST_CASE(an_option_this_libcurl_lacks_says_it_is_too_old) {
    Handle handle;
    curl::Options options(handle.easy.get());
    // An option number no libcurl defines stands in for one an old libcurl lacks (CURLOPT_CAINFO_BLOB
    // on 7.61).
    options.set(static_cast<CURLoption>(CURLOPTTYPE_LONG + 9999), 1L);
    BOOST_TEST(options.code() == CURLE_UNKNOWN_OPTION);
    BOOST_TEST(options.failure().find("curl option 9999") != std::string::npos, options.failure());
    BOOST_TEST(options.failure().find("too old") != std::string::npos, options.failure());
}

BOOST_AUTO_TEST_CASE(accepted_options_report_no_failure) {
    Handle handle;
    curl::Options options(handle.easy.get());
    options.set(CURLOPT_PROTOCOLS_STR, "http,https").set(CURLOPT_NOSIGNAL, 1L).set(CURLOPT_CAINFO, nullptr);
    BOOST_TEST(options.ok());
    BOOST_TEST(options.failure().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(system_trust)

// Go's order: $SSL_CERT_FILE alone when set; $SSL_CERT_DIR's existing entries (colon-separated) when set.
BOOST_AUTO_TEST_CASE(environment_overrides_are_taken_like_go) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("meshlink-trust-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "certs");
    std::ofstream(dir / "bundle.pem") << "not checked here\n";
    ::setenv("SSL_CERT_FILE", (dir / "bundle.pem").c_str(), 1);
    ::setenv("SSL_CERT_DIR", ((dir / "missing").string() + ":" + (dir / "certs").string()).c_str(), 1);
    auto trust = detail::find_system_trust();
    BOOST_TEST(trust.file == (dir / "bundle.pem").string());
    BOOST_TEST(trust.directories == (dir / "certs").string());

    // A named file that does not exist is not replaced by another: Go reads only SSL_CERT_FILE then.
    ::setenv("SSL_CERT_FILE", (dir / "absent.pem").c_str(), 1);
    trust = detail::find_system_trust();
    BOOST_TEST(trust.file.empty());
    ::unsetenv("SSL_CERT_FILE");
    ::unsetenv("SSL_CERT_DIR");
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
