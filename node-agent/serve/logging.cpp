#include "node-agent/serve/logging.hpp"

#include "node-agent/defaults.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

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

// journald's native protocol, written directly (no libsystemd): one datagram per entry to its socket, each
// field "NAME=value\n", or, when the value holds a newline, "NAME\n" + the value's length (64-bit little
// endian) + the value + "\n". The agent is a static binary in a FROM scratch image, where libsystemd can be
// neither linked (its static build is unsupported) nor loaded; these few lines are all sd_journal_sendv does
// for entries of this size.
void append_field(std::string& datagram, std::string_view name, std::string_view value) {
    datagram += name;
    if (value.find('\n') == std::string_view::npos) {
        datagram += '=';
        datagram += value;
    } else {
        datagram += '\n';
        std::uint64_t size = value.size();
        for (int i = 0; i < 8; ++i) {
            datagram += static_cast<char>((size >> (8 * i)) & 0xffU);
        }
        datagram += value;
    }
    datagram += '\n';
}

struct JournalSocket {
    util::Fd fd;
    sockaddr_un address{};
    socklen_t length = 0;
};

util::Result<std::shared_ptr<JournalSocket>> open_journal(const std::filesystem::path& path) {
    auto journal = std::make_shared<JournalSocket>();
    const std::string text = path.string();
    if (text.size() >= sizeof(journal->address.sun_path)) {
        return util::fail(util::ErrorKind::generic, text + ": socket path too long");
    }
    journal->address.sun_family = AF_UNIX;
    std::memcpy(journal->address.sun_path, text.c_str(), text.size() + 1);
    journal->length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + 1);
    journal->fd = util::Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!journal->fd) {
        return util::fail(util::ErrorKind::generic, fmt::format("socket(AF_UNIX): {}", std::strerror(errno)));
    }
    return journal;
}

void install_journal_sink(std::shared_ptr<JournalSocket> journal, const std::string& node) {
    util::log::set_sink(
        [journal = std::move(journal), node](util::log::Severity severity, std::string_view message) {
            std::string datagram;
            append_field(datagram, "MESSAGE", message);
            append_field(datagram, "PRIORITY", std::to_string(syslog_priority(severity)));
            append_field(datagram, "SYSLOG_IDENTIFIER", defaults::k_agent_name);
            append_field(datagram, "MESHLINK_NODE", node);
            const auto sent = ::sendto(journal->fd.get(), datagram.data(), datagram.size(), MSG_NOSIGNAL,
                                       reinterpret_cast<const sockaddr*>(&journal->address), journal->length);
            if (sent < 0) {
                // The journal went away (socket unmounted, journald restarting) or the entry is too large for
                // one datagram: do not lose the line.
                const std::string line = fmt::format("{} {}\n", severity_word(severity), message);
                std::fwrite(line.data(), 1, line.size(), stderr);
            }
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
    bool open_failed = false; // the socket is there but cannot be used: say so even for "auto"
    std::string why_not = journal_socket.string() + " does not exist";
    if (socket_present) {
        auto journal = open_journal(journal_socket);
        if (journal) {
            install_journal_sink(std::move(*journal), node);
            return "journal";
        }
        why_not = journal.error().message;
        open_failed = true;
    }
    install_stderr_sink();
    if (target == LogTarget::journal || open_failed) {
        util::log::warn(fmt::format("--log-target {}: {}; logging to stderr",
                                    target == LogTarget::journal ? "journal" : "auto", why_not));
    }
    return "stderr";
}

} // namespace meshlink::agent::serve
