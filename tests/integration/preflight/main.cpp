// Without fakekube there is nothing to run against, without kubectl no plugin discovery: the whole binary
// skips (exit 77) and says why.
#define BOOST_TEST_MODULE preflight integration tests
#define BOOST_TEST_NO_MAIN
#include "tests/integration/support/fakekube_process.hpp"
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cstdio>

int main(int argc, char* argv[]) {
    const auto fakekube = meshlink::test::bin_dir() / "fakekube";
    if (::access(fakekube.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "skipped: %s is not built\n", fakekube.c_str());
        return 77;
    }
    if (!meshlink::util::find_executable("kubectl")) {
        std::fprintf(stderr, "skipped: kubectl is not installed (scripts/install-deps installs it)\n");
        return 77;
    }
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
