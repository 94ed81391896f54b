// util/file: whole files read, every failure named by its step so callers can word it.
#include "tests/unit/util/test_support.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

namespace fs = std::filesystem;
using meshlink::util::ErrorKind;
using meshlink::util::FileError;
using meshlink::util::read_file;

using meshlink::test::ScratchDir;

namespace {
// The content read, or a test failure that names the step and errno.
std::string content_of(meshlink::util::FileResult<std::string> result) {
    BOOST_REQUIRE_MESSAGE(result, "read failed: " << (result ? "" : result.error().reason()));
    return *std::move(result);
}
} // namespace

BOOST_AUTO_TEST_SUITE(file)

BOOST_AUTO_TEST_CASE(a_whole_file_is_read_byte_for_byte) {
    ScratchDir dir;
    std::string content;
    for (int i = 0; i < 300000; ++i) {
        content += static_cast<char>(i * 7 & 0xff);
    }
    BOOST_TEST(content_of(read_file(dir.write("big", content))) == content);
    BOOST_TEST(content_of(read_file(dir.write("empty", ""))).empty());
    // procfs reports size 0; the content is read anyway.
    BOOST_TEST(content_of(read_file("/proc/self/status", {.regular_only = true})).find("Name:") == 0U);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_not_found_at_open) {
    ScratchDir dir;
    auto text = read_file(dir.path / "absent");
    BOOST_REQUIRE(!text);
    BOOST_TEST((text.error().step == FileError::Step::open));
    BOOST_TEST((text.error().kind() == ErrorKind::not_found));
    BOOST_TEST(text.error().reason() == "No such file or directory");
}

BOOST_AUTO_TEST_CASE(regular_only_refuses_directories_and_fifos_without_blocking) {
    ScratchDir dir;
    auto directory = read_file(dir.path, {.regular_only = true});
    BOOST_REQUIRE(!directory);
    BOOST_TEST((directory.error().step == FileError::Step::not_regular));
    BOOST_TEST(directory.error().reason() == "Is a directory");
    BOOST_TEST((directory.error().kind() == ErrorKind::io));

    const fs::path fifo = dir.path / "fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto planted = read_file(fifo, {.regular_only = true}); // returns at once: no writer is waited for
    BOOST_REQUIRE(!planted);
    BOOST_TEST((planted.error().step == FileError::Step::not_regular));
    BOOST_TEST(planted.error().reason() == "not a regular file");

    // Without the option a directory fails where the system says so: reading it.
    auto read_dir = read_file(dir.path);
    BOOST_REQUIRE(!read_dir);
    BOOST_TEST((read_dir.error().step == FileError::Step::read));
    BOOST_TEST(read_dir.error().number == EISDIR);
}

BOOST_AUTO_TEST_CASE(a_file_over_the_limit_is_refused) {
    ScratchDir dir;
    const auto path = dir.write("ten", "0123456789");
    BOOST_TEST(content_of(read_file(path, {.limit = 10})) == "0123456789");
    auto over = read_file(path, {.limit = 9});
    BOOST_REQUIRE(!over);
    BOOST_TEST((over.error().step == FileError::Step::too_large));
    BOOST_TEST(over.error().reason() == "larger than 9 bytes");
}

BOOST_AUTO_TEST_SUITE_END()
