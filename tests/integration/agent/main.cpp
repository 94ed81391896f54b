// Without fakekube or the binaries there is nothing to test against: the whole binary skips (exit 77).
#define BOOST_TEST_MODULE agent integration tests
#define BOOST_TEST_NO_MAIN
#include "tests/integration/support/fakekube_process.hpp"

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cstdio>

int main(int argc, char* argv[]) {
    for (const char* name : {"fakekube", "meshlink-agent", "kubectl-meshlink"}) {
        const auto program = meshlink::test::bin_dir() / name;
        if (::access(program.c_str(), X_OK) != 0) {
            std::fprintf(stderr, "skipped: %s is not built\n", program.c_str());
            return 77;
        }
    }
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
