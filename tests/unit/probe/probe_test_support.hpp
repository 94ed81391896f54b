#pragma once
// Helpers for the probe's unit tests: the committed fixture roots, and scratch trees for malformed inputs.

#include "probe/checks.hpp"
#include "probe/host.hpp"
#include "probe/kconfig.hpp"
#include "probe/kmod.hpp"

#include <boost/test/tools/detail/print_helper.hpp>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

// Boost.Test prints values of failed assertions; teach it the probe's vocabulary types.
namespace boost::test_tools::tt_detail {
template <typename T>
struct print_log_value<std::optional<T>> {
    void operator()(std::ostream& out, const std::optional<T>& value) {
        if (value) {
            print_log_value<T>()(out, *value);
        } else {
            out << "nullopt";
        }
    }
};
template <>
struct print_log_value<meshlink::probe::Status> {
    void operator()(std::ostream& out, meshlink::probe::Status value) { out << to_string(value); }
};
template <>
struct print_log_value<meshlink::probe::OptionState> {
    void operator()(std::ostream& out, meshlink::probe::OptionState value) { out << to_string(value); }
};
template <>
struct print_log_value<meshlink::probe::ModuleState> {
    void operator()(std::ostream& out, meshlink::probe::ModuleState value) { out << to_string(value); }
};
} // namespace boost::test_tools::tt_detail

namespace meshlink::probe::testing {

// tests/fixtures/nodes/<name>/{root,proc,sys}.
inline Host fixture_host(std::string_view name) {
    const std::filesystem::path base =
        std::filesystem::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/nodes" / name;
    return Host{base / "root", base / "proc", base / "sys", {}};
}

// A fresh directory removed with everything in it at scope exit.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "meshlink-probe-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

    // Writes `text` to <path>/<relative>, creating parent directories.
    std::filesystem::path write(std::string_view relative, std::string_view text) const {
        const auto file = m_path / relative;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        return file;
    }

    std::filesystem::path mkdir(std::string_view relative) const {
        const auto dir = m_path / relative;
        std::filesystem::create_directories(dir);
        return dir;
    }

    // A Host whose root, proc and sys are <path>/root, <path>/proc, <path>/sys (created empty).
    [[nodiscard]] Host host() const {
        Host host{m_path / "root", m_path / "proc", m_path / "sys", {}};
        std::filesystem::create_directories(host.root);
        std::filesystem::create_directories(host.proc);
        std::filesystem::create_directories(host.sys);
        return host;
    }

private:
    std::filesystem::path m_path;
};

// A config file with the two lines kconfig writes first, then `body`.
inline std::string kconfig_text(std::string_view body) {
    return "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86_64 6.1.0 Kernel Configuration\n#\n" +
           std::string(body);
}

} // namespace meshlink::probe::testing
