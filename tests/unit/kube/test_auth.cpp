#include "kube/auth.hpp"
#include "tests/unit/util/test_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>

using namespace meshlink::kube;
using namespace meshlink::util;
using meshlink::test::error_message;
using meshlink::test::ScratchDir;

namespace {

std::string header(const RequestAuth& auth, const std::string& name) {
    std::string values;
    for (const auto& [key, value] : auth.headers) {
        if (key == name) {
            values += values.empty() ? value : "|" + value;
        }
    }
    return values;
}

RequestAuth current(Authenticator& auth) {
    auto result = auth.current();
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    return std::move(*result);
}

std::unique_ptr<Authenticator> make(const RestConfig& config) {
    auto auth = Authenticator::create(config);
    BOOST_TEST_REQUIRE(auth.has_value(), error_message(auth));
    return std::move(*auth);
}

} // namespace

BOOST_AUTO_TEST_SUITE(auth)

BOOST_AUTO_TEST_CASE(static_token_basic_auth_and_impersonation_headers) {
    RestConfig token;
    token.bearer_token = "abc123\n";
    token.impersonate_user = "system:admin";
    token.impersonate_groups = {"system:masters", "ops"};
    auto with_token = current(*make(token));
    BOOST_TEST(header(with_token, "Authorization") == "Bearer abc123");
    BOOST_TEST(header(with_token, "Impersonate-User") == "system:admin");
    BOOST_TEST(header(with_token, "Impersonate-Group") == "system:masters|ops");

    RestConfig basic;
    basic.username = "admin";
    basic.password = "s3cret";
    // base64("admin:s3cret")
    BOOST_TEST(header(current(*make(basic)), "Authorization") == "Basic YWRtaW46czNjcmV0");

    RestConfig anonymous;
    BOOST_TEST(current(*make(anonymous)).headers.empty());
    BOOST_TEST(!make(anonymous)->can_refresh());
}

BOOST_AUTO_TEST_CASE(client_certificate_is_handed_over_in_memory) {
    RestConfig config;
    config.client_certificate_pem = "CERT";
    config.client_key_pem = "KEY";
    auto auth = current(*make(config));
    BOOST_TEST(auth.client_certificate_pem == "CERT");
    BOOST_TEST(auth.client_key_pem == "KEY");
    BOOST_TEST(auth.headers.empty());
}

BOOST_AUTO_TEST_CASE(token_file_is_reread_when_it_changes_and_wins_over_the_inline_token) {
    ScratchDir dir;
    const auto file = dir.write("token", "first-token\n");
    RestConfig config;
    config.bearer_token = "inline";
    config.bearer_token_file = file;
    auto auth = make(config);
    BOOST_TEST(auth->can_refresh());
    BOOST_TEST(header(current(*auth), "Authorization") == "Bearer first-token");

    dir.write("token", "second-token-longer\n");
    BOOST_TEST(header(current(*auth), "Authorization") == "Bearer second-token-longer");

    // A file that disappears for a moment (kubelet swapping a projected volume) keeps the last token.
    std::filesystem::remove(file);
    BOOST_TEST(header(current(*auth), "Authorization") == "Bearer second-token-longer");
}

BOOST_AUTO_TEST_CASE(a_401_rereads_the_token_file_even_when_it_looks_unchanged) {
    ScratchDir dir;
    const auto file = dir.write("token", "token-AAAA");
    struct stat before {};
    BOOST_TEST_REQUIRE(::stat(file.c_str(), &before) == 0);
    RestConfig config;
    config.bearer_token_file = file;
    auto auth = make(config);
    auto first = current(*auth);
    BOOST_TEST(header(first, "Authorization") == "Bearer token-AAAA");

    // Same size, same mtime: the cheap change check cannot see it...
    {
        std::ofstream out(file, std::ios::binary | std::ios::in | std::ios::out);
        out << "token-BBBB";
    }
    const timespec times[2] = {before.st_atim, before.st_mtim};
    BOOST_TEST_REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
    BOOST_TEST(header(current(*auth), "Authorization") == "Bearer token-AAAA");

    // ...but after the server rejected the token, the file is read again.
    auto changed = auth->refresh_after_unauthorized(first);
    BOOST_TEST_REQUIRE(changed.has_value());
    BOOST_TEST(*changed);
    BOOST_TEST(header(current(*auth), "Authorization") == "Bearer token-BBBB");

    // Nothing new to try: a retry would not help.
    auto again = auth->refresh_after_unauthorized(current(*auth));
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(!*again);
}

BOOST_AUTO_TEST_SUITE_END()
