#include "node-agent/serve/logging.hpp"

#include "node-agent/defaults.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <syslog.h>

#include <chrono>
#include <cstdio>
#include <system_error>

#ifdef HAVE_LIBSYSTEMD
#include "util/shared_library.hpp"

#include <sys/uio.h>
// Without it, sd_journal_sendv is a macro adding CODE_FILE/CODE_LINE, which would always name this sink.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

namespace meshlink::agent::serve {
namespace {

int syslog_priority(util::log::Severity severity) {
    switch (severity) {
    case util::log::Severity::error:
        return LOG_ERR;
    case util::log::Severity::warning:
        return LOG_WARNING;
    case util::log::Severity::info:
        return LOG_INFO;
    }
    return LOG_INFO;
}

std::string_view severity_word(util::log::Severity severity) {
    switch (severity) {
    case util::log::Severity::error:
        return "error";
    case util::log::Severity::warning:
        return "warning";
    case util::log::Severity::info:
        return "info";
    }
    return "info";
}

void install_stderr_sink() {
    util::log::set_sink([](util::log::Severity severity, std::string_view message) {
        // One write per line, so lines from the HTTP threads and the loop never interleave mid-line.
        const std::string line =
            fmt::format("{} {:<7} {}\n", util::format_rfc3339(std::chrono::system_clock::now()),
                        severity_word(severity), message);
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
    });
}

#ifdef HAVE_LIBSYSTEMD
// libsystemd is loaded when the journal is first used, not linked: with its dependencies (libgcrypt, lz4,
// zstd, lzma, libcap) it would cost every agent process its mapped pages, `meshlink-agent probe` included.
// The header still declares the function, so a libsystemd whose ABI differs fails the build, not a node.
using JournalSend = decltype(&::sd_journal_sendv);

const util::Result<JournalSend>& journal_send() {
    static const util::Result<JournalSend> loaded = []() -> util::Result<JournalSend> {
        auto library = util::SharedLibrary::open("libsystemd.so.0");
        if (!library) {
            return std::unexpected(library.error().with_context("cannot load libsystemd"));
        }
        JournalSend send = nullptr;
        if (!library->resolve(send, "sd_journal_sendv")) {
            return util::fail(util::ErrorKind::not_found,
                              "libsystemd.so.0 has no symbol " + library->missing());
        }
        library->keep(); // the sink calls it for the life of the process
        return send;
    }();
    return loaded;
}

void install_journal_sink(JournalSend send, const std::string& node) {
    const std::string identifier = fmt::format("SYSLOG_IDENTIFIER={}", defaults::k_agent_name);
    const std::string node_field = "MESHLINK_NODE=" + node;
    util::log::set_sink([send, identifier, node_field](util::log::Severity severity,
                                                       std::string_view message) {
        // Fields as iovecs, never through a printf format: a message is sent as it is, newlines included.
        const std::string message_field = fmt::format("MESSAGE={}", message);
        const std::string priority = fmt::format("PRIORITY={}", syslog_priority(severity));
        const auto field = [](const std::string& text) {
            return iovec{const_cast<char*>(text.data()), text.size()};
        };
        const iovec fields[] = {field(message_field), field(priority), field(identifier), field(node_field)};
        if (send(fields, static_cast<int>(std::size(fields))) < 0) {
            // The journal went away (socket unmounted, journald restarting): do not lose the line.
            const std::string line = fmt::format("{} {}\n", severity_word(severity), message);
            std::fwrite(line.data(), 1, line.size(), stderr);
        }
    });
}
#endif

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
    bool load_failed = false; // the socket is there, libsystemd is not: say so even for "auto"
#ifdef HAVE_LIBSYSTEMD
    std::string why_not = journal_socket.string() + " does not exist";
    if (socket_present) {
        const auto& send = journal_send();
        if (send) {
            install_journal_sink(*send, node);
            return "journal";
        }
        why_not = send.error().message;
        load_failed = true;
    }
#else
    (void)node;
    (void)syslog_priority;
    (void)socket_present;
    const std::string why_not = "this agent is built without libsystemd";
#endif
    install_stderr_sink();
    if (target == LogTarget::journal || load_failed) {
        util::log::warn(fmt::format("--log-target {}: {}; logging to stderr",
                                    target == LogTarget::journal ? "journal" : "auto", why_not));
    }
    return "stderr";
}

} // namespace meshlink::agent::serve
