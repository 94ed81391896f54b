#pragma once
// Verbosity-gated logging to stderr (or a sink the agent installs, e.g. the journal), kubectl-style:
// -v 4 debug, -v 6 requests (method, URL, status, latency), -v 8 bodies (secrets redacted).
// Callers must never pass credentials; kube/ redacts what it logs itself.

#include <functional>
#include <string_view>

namespace meshlink::util::log {

enum class Severity { info, warning, error };

void set_verbosity(int level);
int verbosity();
inline bool enabled(int level) {
    return verbosity() >= level;
}

// Writes one line when `level` <= verbosity (level 0 always prints).
void write(int level, std::string_view message, Severity severity = Severity::info);
inline void info(std::string_view message) {
    write(0, message, Severity::info);
}
inline void warn(std::string_view message) {
    write(0, message, Severity::warning);
}
inline void error(std::string_view message) {
    write(0, message, Severity::error);
}

using Sink = std::function<void(Severity, std::string_view)>;
// Replaces the stderr sink (nullptr restores it). Not thread-safe against concurrent write().
void set_sink(Sink sink);

} // namespace meshlink::util::log
