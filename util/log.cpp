#include "util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace meshlink::util::log {
namespace {
std::atomic<int> g_verbosity{0};
std::mutex g_mutex;
Sink g_sink;
} // namespace

void set_verbosity(int level) {
    g_verbosity = level;
}
int verbosity() {
    return g_verbosity;
}

void write(int level, std::string_view message, Severity severity) {
    if (level > g_verbosity) {
        return;
    }
    std::lock_guard lock(g_mutex);
    if (g_sink) {
        g_sink(severity, message);
        return;
    }
    const char* prefix = severity == Severity::warning ? "Warning: "
                         : severity == Severity::error ? "Error: "
                                                       : "";
    std::string line = std::string(prefix) + std::string(message) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
}

void set_sink(Sink sink) {
    std::lock_guard lock(g_mutex);
    g_sink = std::move(sink);
}

} // namespace meshlink::util::log
