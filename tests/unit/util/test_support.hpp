#pragma once
// Helpers for unit tests of util/, kube/ and above: scratch directories, environment variables for one scope.

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace meshlink::test {

// A fresh directory under $TMPDIR, removed with everything in it.
struct ScratchDir {
    std::filesystem::path path;
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "meshlink-test-XXXXXX").string();
        path = ::mkdtemp(pattern.data());
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path write(const std::string& name, const std::string& text,
                                bool executable = false) const {
        const std::filesystem::path file = path / name;
        std::filesystem::create_directories(file.parent_path());
        {
            std::ofstream out(file, std::ios::binary | std::ios::trunc);
            out << text;
        }
        if (executable) {
            ::chmod(file.c_str(), 0755);
        }
        return file;
    }
    [[nodiscard]] std::string read(const std::string& name) const {
        std::ifstream in(path / name, std::ios::binary);
        std::ostringstream content;
        content << in.rdbuf();
        return content.str();
    }
};

// Sets (or unsets, with nullopt) an environment variable for one scope.
struct ScopedEnvVar {
    std::string name;
    std::optional<std::string> saved;
    ScopedEnvVar(std::string variable, const std::optional<std::string>& value) : name(std::move(variable)) {
        if (const char* old = std::getenv(name.c_str())) {
            saved = old;
        }
        if (value) {
            ::setenv(name.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
    ScopedEnvVar(const ScopedEnvVar&) = delete;
    ScopedEnvVar& operator=(const ScopedEnvVar&) = delete;
    ~ScopedEnvVar() {
        if (saved) {
            ::setenv(name.c_str(), saved->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
};

// The error message of a Result, or "" when it holds a value. Boost evaluates a check's message even when the
// check passes, so `BOOST_TEST(r.has_value(), r.error().message)` would read an error that is not there.
template <typename R>
std::string error_message(const R& result) {
    return result.has_value() ? std::string() : result.error().message;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace meshlink::test
