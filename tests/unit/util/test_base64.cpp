// util/base64: encoding as openssl does, decoding as strictly as Go's StdEncoding, errors in both offset
// conventions (raw for API Secret data, without line breaks for kubeconfig *-data fields).
#include "util/base64.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using meshlink::util::base64_decode;
using meshlink::util::base64_encode;
using meshlink::util::base64_validate;
using meshlink::util::Base64Offsets;

namespace {

std::string error_of(std::string_view text, Base64Offsets offsets) {
    auto decoded = base64_decode(text, offsets);
    return decoded ? std::string("(decoded)") : decoded.error().message;
}

boost::test_tools::assertion_result openssl_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result result(meshlink::util::find_executable("openssl").has_value());
    result.message() << "openssl is not installed";
    return result;
}

std::string openssl_base64(const std::string& data, bool wrapped) {
    std::string pattern = (std::filesystem::temp_directory_path() / "meshlink-base64-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    BOOST_TEST_REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(pattern, std::ios::binary) << data;
    meshlink::util::SubprocessSpec spec;
    spec.program = "openssl";
    spec.args = {"base64", "-in", pattern};
    if (!wrapped) {
        spec.args.emplace_back("-A");
    }
    spec.env = meshlink::util::environment_with({});
    auto result = meshlink::util::run_subprocess(spec);
    std::filesystem::remove(pattern);
    BOOST_TEST_REQUIRE(result.has_value());
    BOOST_TEST_REQUIRE(result->exit_code == 0);
    return result->stdout_data;
}

} // namespace

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(encoding_matches_openssl_and_its_wrapped_output_decodes_back,
                     *boost::unit_test::precondition(&openssl_available)) {
    std::string binary;
    for (int i = 0; i < 300; ++i) {
        binary += static_cast<char>((i * 37 + 11) & 0xff);
    }
    for (std::size_t length : {0U, 1U, 2U, 3U, 4U, 5U, 64U, 299U}) {
        const auto data = binary.substr(0, length);
        BOOST_TEST(base64_encode(data) == openssl_base64(data, false), "length " << length);
        // openssl's wrapped output (64 columns, newlines) decodes back in both conventions.
        const auto wrapped = openssl_base64(data, true);
        BOOST_TEST(base64_decode(wrapped).value() == data, "length " << length);
        BOOST_TEST(base64_decode(wrapped, Base64Offsets::without_line_breaks).value() == data);
    }
}

BOOST_AUTO_TEST_CASE(reads_like_go) {
    BOOST_TEST(base64_decode("aGVsbG8=").value() == "hello");
    BOOST_TEST(base64_decode("aGVs\nbG8=\r\n").value() == "hello");
    BOOST_TEST(base64_decode("YWJj").value() == "abc");
    BOOST_TEST(base64_decode("").value().empty());
    BOOST_TEST(base64_encode("hello") == "aGVsbG8=");
    BOOST_TEST(base64_encode("hell") == "aGVsbA==");
    BOOST_TEST(base64_encode("").empty());
    for (const char* bad : {"aGVsbG8", "aGVs bG8=", "aG=sbG8=", "abc", "ab=c", "a!bc", "YQ==YQ==", "=",
                            "YQ=", "YQ== x", "Y Q==", "YWJj\tZA=="}) {
        for (auto offsets : {Base64Offsets::raw, Base64Offsets::without_line_breaks}) {
            auto decoded = base64_decode(bad, offsets);
            BOOST_TEST(!decoded.has_value(), bad);
            if (!decoded) {
                BOOST_TEST(decoded.error().message.starts_with("illegal base64 data at input byte "), bad);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(errors_name_the_byte_in_either_convention) {
    // A bad character: every byte before it counts, or every byte but CR and LF.
    BOOST_TEST(error_of("not*base64", Base64Offsets::raw) == "illegal base64 data at input byte 3");
    BOOST_TEST(error_of("QU\r\nJ!", Base64Offsets::raw) == "illegal base64 data at input byte 5");
    BOOST_TEST(error_of("QU\r\nJ!", Base64Offsets::without_line_breaks) ==
               "illegal base64 data at input byte 3");
    // Data after the padding.
    BOOST_TEST(error_of("YQ==\nx", Base64Offsets::raw) == "illegal base64 data at input byte 5");
    BOOST_TEST(error_of("YQ==\nx", Base64Offsets::without_line_breaks) ==
               "illegal base64 data at input byte 4");
    // A short final group: its first byte, or the end of the text with the reason.
    BOOST_TEST(error_of("YWJj\nYQ", Base64Offsets::raw) == "illegal base64 data at input byte 5");
    BOOST_TEST(error_of("YWJj\nYQ", Base64Offsets::without_line_breaks) ==
               "illegal base64 data at input byte 6 (length is not a multiple of 4)");
}

BOOST_AUTO_TEST_CASE(validation_agrees_with_decoding) {
    for (const std::string text : {"", "QQ==", "QUI=", "QUJD", "QUJDRA==", "QU\r\nJD", "Q",
                                   "QQ=", "QQ===", "Q===", "QQ==QQ==", "QUJD=", "QU=D", "QUJ!", "QUJD\n",
                                   "=QUJ", "QUJDRA=\n=", "QUJDRA\n==", " QUJD"}) {
        for (auto offsets : {Base64Offsets::raw, Base64Offsets::without_line_breaks}) {
            const auto decoded = base64_decode(text, offsets);
            const auto validated = base64_validate(text, offsets);
            BOOST_CHECK_MESSAGE(validated.has_value() == decoded.has_value(), "for \"" << text << "\"");
            if (!decoded && !validated) {
                BOOST_TEST(validated.error().message == decoded.error().message);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
