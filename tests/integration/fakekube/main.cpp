// Without fakekube or kubectl there is nothing to test against: the whole binary skips (exit 77).
#define BOOST_TEST_MODULE fakekube integration tests
#define BOOST_TEST_NO_MAIN
#include "tests/integration/support/fakekube_process.hpp"

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

namespace {

bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (!dir.empty() && ::access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) {
            return true;
        }
    }
    return false;
}

} // namespace

int main(int argc, char* argv[]) {
    const auto fakekube = meshlink::test::bin_dir() / "fakekube";
    if (::access(fakekube.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "skipped: %s is not built\n", fakekube.c_str());
        return 77;
    }
    if (!on_path("kubectl")) {
        std::fprintf(stderr, "skipped: kubectl is not on PATH (scripts/install-deps installs it)\n");
        return 77;
    }
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
