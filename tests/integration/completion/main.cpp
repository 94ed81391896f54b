// Completion is tested through real kubectl (1.26+ runs kubectl_complete-meshlink); without kubectl the whole
// binary skips (exit 77) and says why.
#define BOOST_TEST_MODULE completion integration tests
#define BOOST_TEST_NO_MAIN
#include "util/subprocess.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>

int main(int argc, char* argv[]) {
    if (!meshlink::util::find_executable("kubectl")) {
        std::fprintf(stderr, "skipped: kubectl is not installed (scripts/install-deps installs it)\n");
        return 77;
    }
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
