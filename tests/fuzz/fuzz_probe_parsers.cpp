// libFuzzer target for the node probe's parsers of untrusted node files: kernel config, os-release and the
// kernel release string. Built with clang by run-fuzz.sh (make test runs it for a bounded time).
//
// Beyond "no crash", it checks the properties the checks rely on, and traps when one breaks.

#include "probe/kconfig.hpp"
#include "probe/kernel_release.hpp"
#include "probe/os_release.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace meshlink::probe;

void check(bool condition) {
    if (!condition) {
        __builtin_trap();
    }
}

bool is_option_name(std::string_view name) {
    if (name.substr(0, 7) != "CONFIG_" || name.size() == 7) {
        return false;
    }
    for (char c : name.substr(7)) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const KernelConfig config = parse_kconfig(text);
    for (const auto& [name, value] : config.options) {
        check(is_option_name(name));
        check(value == 'y' || value == 'm' || value == 'n');
    }
    check(config.options.size() <= config.assignments);
    // A file with a malformed line is never used: a corrupt config must not make options look unset.
    check(!config.usable() || config.bad_line == 0);

    const OsRelease os = parse_os_release(text);
    check(os.problems.size() <= 5);
    for (const auto& [key, value] : os.fields) {
        check(!key.empty());
        check(key.find('=') == std::string::npos);
    }

    const KernelRelease release = parse_kernel_release(text);
    check(release.release.size() <= 64);
    check(release.release.find('/') == std::string::npos);
    if (release.version) {
        check(release.error.empty());
        check(release.version->major >= 0 && release.version->minor >= 0 && release.version->patch >= 0);
        check(!release.release.empty());
    } else {
        check(!release.error.empty());
    }
    return 0;
}
