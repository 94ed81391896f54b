#include "node-agent/serve/logging.hpp"

#include "kube/log.hpp"
#include "node-agent/defaults.hpp"
#include "node-agent/publish/node_report.hpp"

#include <fmt/format.h>
#include <syslog.h>

#include <chrono>
#include <cstdio>
#include <system_error>

#ifdef HAVE_LIBSYSTEMD
// CODE_FILE/CODE_LINE would always name this sink, not where the message came from.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

namespace meshlink::agent::serve {
namespace {

int syslog_priority(kube::log::Severity severity) {
    switch (severity) {
    case kube::log::Severity::error:
        return LOG_ERR;
    case kube::log::Severity::warning:
        return LOG_WARNING;
    case kube::log::Severity::info:
        return LOG_INFO;
    }
    return LOG_INFO;
}

std::string_view severity_word(kube::log::Severity severity) {
    switch (severity) {
    case kube::log::Severity::error:
        return "error";
    case kube::log::Severity::warning:
        return "warning";
    case kube::log::Severity::info:
        return "info";
    }
    return "info";
}

void install_stderr_sink() {
    kube::log::set_sink([](kube::log::Severity severity, std::string_view message) {
        // One write per line, so lines from the HTTP threads and the loop never interleave mid-line.
        const std::string line =
            fmt::format("{} {:<7} {}\n", publish::format_rfc3339(std::chrono::system_clock::now()),
                        severity_word(severity), message);
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
    });
}

} // namespace

bool parse_log_target(std::string_view text, LogTarget& target) {
    if (text == "auto") {
        target = LogTarget::automatic;
    } else if (text == "journal") {
        target = LogTarget::journal;
    } else if (text == "stderr") {
        target = LogTarget::stderr_stream;
    } else {
        return false;
    }
    return true;
}

std::string install_log_sink(LogTarget target, const std::filesystem::path& journal_socket,
                             const std::string& node) {
    if (target == LogTarget::stderr_stream) {
        install_stderr_sink();
        return "stderr";
    }
    std::error_code ec;
    const bool socket_present = std::filesystem::exists(journal_socket, ec);
#ifdef HAVE_LIBSYSTEMD
    if (socket_present) {
        kube::log::set_sink([node](kube::log::Severity severity, std::string_view message) {
            // sd_journal_send takes printf formats: the message always goes through "%.*s", never as a
            // format.
            const int rc = sd_journal_send("MESSAGE=%.*s", static_cast<int>(message.size()), message.data(),
                                           "PRIORITY=%i", syslog_priority(severity), "SYSLOG_IDENTIFIER=%s",
                                           std::string(defaults::k_agent_name).c_str(), "MESHLINK_NODE=%s",
                                           node.c_str(), nullptr);
            if (rc < 0) {
                // The journal went away (socket unmounted, journald restarting): do not lose the line.
                const std::string line = fmt::format("{} {}\n", severity_word(severity), message);
                std::fwrite(line.data(), 1, line.size(), stderr);
            }
        });
        return "journal";
    }
#else
    (void)node;
    (void)syslog_priority;
#endif
    install_stderr_sink();
    if (target == LogTarget::journal) {
#ifdef HAVE_LIBSYSTEMD
        kube::log::warn(fmt::format("--log-target journal: {} does not exist; logging to stderr",
                                    journal_socket.string()));
#else
        kube::log::warn("--log-target journal: this agent is built without libsystemd; logging to stderr");
#endif
    } else {
        (void)socket_present;
    }
    return "stderr";
}

} // namespace meshlink::agent::serve
