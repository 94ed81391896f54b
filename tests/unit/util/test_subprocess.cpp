#include "tests/unit/util/test_support.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <signal.h>

using namespace meshlink::util;
using namespace std::chrono_literals;
using meshlink::test::contains;
using meshlink::test::error_message;
using meshlink::test::ScratchDir;

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::util::ErrorKind)

BOOST_AUTO_TEST_SUITE(subprocess)

BOOST_AUTO_TEST_CASE(captures_stdout_and_exit_code_without_a_shell) {
    SubprocessSpec spec;
    spec.program = "/bin/sh";
    spec.args = {"-c", "printf '%s|' \"$0\" \"$@\"; exit 7", "name", "a b", "$HOME", "*"};
    spec.env = environment_with({});
    auto result = run_subprocess(spec);
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    BOOST_TEST(result->exit_code == 7);
    BOOST_TEST(result->term_signal == 0);
    // Arguments arrive verbatim: no word splitting, expansion or globbing.
    BOOST_TEST(result->stdout_data == "name|a b|$HOME|*|");
}

BOOST_AUTO_TEST_CASE(large_output_is_read_completely) {
    SubprocessSpec spec;
    spec.program = "/bin/sh";
    spec.args = {"-c", "head -c 1000000 /dev/zero"};
    spec.env = environment_with({});
    auto result = run_subprocess(spec);
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    BOOST_TEST(result->stdout_data.size() == 1000000U);
}

BOOST_AUTO_TEST_CASE(stdin_data_reaches_the_child_from_memory_never_from_a_named_file) {
    // 1 MB: more than a pipe holds, so a writer that waited for the reader would hang here.
    std::string secret(1000000, 'k');
    secret.replace(0, 22, "-----BEGIN PRIVATE KEY");
    SubprocessSpec spec;
    spec.program = "/bin/sh";
    // What the child's stdin is (a memfd or an unnamed file, never a path another process could open
    // later), then the bytes it reads.
    spec.args = {"-c", "readlink /proc/self/fd/0; cat"};
    spec.env = environment_with({});
    spec.stdin_data = secret;
    auto result = run_subprocess(spec);
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    BOOST_TEST(result->exit_code == 0);
    const auto newline = result->stdout_data.find('\n');
    BOOST_TEST_REQUIRE(newline != std::string::npos);
    const std::string source = result->stdout_data.substr(0, newline);
    BOOST_TEST((source.starts_with("/memfd:") || source.ends_with("(deleted)")), source);
    BOOST_TEST(result->stdout_data.substr(newline + 1) == secret);
}

BOOST_AUTO_TEST_CASE(environment_overrides_replace_and_add) {
    setenv("MESHLINK_TEST_A", "outer", 1);
    auto env = environment_with({"MESHLINK_TEST_A=inner", "MESHLINK_TEST_B=new", "MESHLINK_TEST_B=newer"});
    int a = 0;
    int b = 0;
    for (const auto& entry : env) {
        a += entry.starts_with("MESHLINK_TEST_A=") ? 1 : 0;
        b += entry.starts_with("MESHLINK_TEST_B=") ? 1 : 0;
        if (entry.starts_with("MESHLINK_TEST_A=")) {
            BOOST_TEST(entry == "MESHLINK_TEST_A=inner");
        }
        if (entry.starts_with("MESHLINK_TEST_B=")) {
            BOOST_TEST(entry == "MESHLINK_TEST_B=newer");
        }
    }
    BOOST_TEST(a == 1);
    BOOST_TEST(b == 1);
    unsetenv("MESHLINK_TEST_A");
}

BOOST_AUTO_TEST_CASE(missing_or_non_executable_programs_are_not_found) {
    ScratchDir dir;
    SubprocessSpec spec;
    spec.program = (dir.path / "absent").string();
    auto missing = run_subprocess(spec);
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().kind == ErrorKind::not_found);
    BOOST_TEST(contains(missing.error().message, spec.program));

    spec.program = dir.write("not-executable", "#!/bin/sh\necho hi\n").string();
    BOOST_TEST(run_subprocess(spec).error().kind == ErrorKind::not_found);

    spec.program = "meshlink-no-such-program-on-path";
    BOOST_TEST(run_subprocess(spec).error().kind == ErrorKind::not_found);
}

BOOST_AUTO_TEST_CASE(a_program_past_its_timeout_is_killed) {
    ScratchDir dir;
    // The grandchild keeps stdout open, so EOF alone would never end the wait.
    SubprocessSpec spec;
    spec.program = "/bin/sh";
    spec.args = {"-c", "echo $$ > " + (dir.path / "pid").string() + "; exec sleep 600"};
    spec.env = environment_with({});
    spec.timeout = 300ms;
    auto result = run_subprocess(spec);
    BOOST_TEST_REQUIRE(!result.has_value());
    BOOST_TEST(result.error().kind == ErrorKind::timeout);
    const pid_t pid = std::stoi(dir.read("pid"));
    // Killed and reaped: the pid is gone (not even a zombie of ours).
    BOOST_TEST(::kill(pid, 0) == -1);
}

BOOST_AUTO_TEST_CASE(a_signal_is_reported) {
    SubprocessSpec spec;
    spec.program = "/bin/sh";
    spec.args = {"-c", "kill -TERM $$"};
    spec.env = environment_with({});
    auto result = run_subprocess(spec);
    BOOST_TEST_REQUIRE(result.has_value(), error_message(result));
    BOOST_TEST(result->term_signal == SIGTERM);
}

BOOST_AUTO_TEST_SUITE_END()
