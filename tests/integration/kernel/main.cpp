// Without rpm, dnf (with dnf-plugins-core), createrepo_c, gpg, grub-editenv or the agent there is nothing to
// test against: the whole binary skips (exit 77), naming what is missing (scripts/install-deps installs
// them).
#define BOOST_TEST_MODULE kernel upgrade integration tests
#define BOOST_TEST_NO_MAIN
#include "tests/integration/kernel/harness.hpp"

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <cstdio>

int main(int argc, char* argv[]) {
    const auto agent = meshlink::test::bin_dir() / "meshlink-agent";
    if (::access(agent.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "skipped: %s is not built\n", agent.c_str());
        return 77;
    }
    if (const auto missing = meshlink::test::kernel::missing_tool(); !missing.empty()) {
        std::fprintf(stderr, "skipped: %s is not installed (scripts/install-deps installs it)\n",
                     missing.c_str());
        return 77;
    }
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
