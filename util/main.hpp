#pragma once
// The one place where the exceptions of util/error.hpp end: both executables' main() run through here.

#include <functional>
#include <string>

namespace meshlink::util {

// Runs `body` and returns its exit code. Fatal and UsageError print "<program>: error: <what>" on stderr and
// return their exit code (2, README "Exit codes"); any other exception is a bug, printed as
// "<program>: internal error: <what>", and still returns 2. stdout is flushed first, so data printed before
// the failure comes out before the error.
int run_main(const std::string& program, const std::function<int()>& body);

} // namespace meshlink::util
