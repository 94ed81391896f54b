#include "tests/fakekube/faults.hpp"

#include <sstream>
#include <string>

namespace meshlink::fakekube {
namespace {

util::Result<double> parse_share(const std::string& key, const std::string& value) {
    try {
        size_t used = 0;
        double share = std::stod(value, &used);
        if (used == value.size() && share >= 0.0 && share <= 1.0) {
            return share;
        }
    } catch (const std::exception&) {
    }
    return util::fail(util::ErrorKind::usage,
                      "--faults: " + key + "=" + value + " is not a share between 0 and 1");
}

} // namespace

util::Result<FaultSpec> parse_faults(std::string_view text) {
    FaultSpec spec;
    std::istringstream items{std::string(text)};
    std::string item;
    while (std::getline(items, item, ',')) {
        if (item.empty()) {
            continue;
        }
        auto eq = item.find('=');
        if (eq == std::string::npos) {
            return util::fail(util::ErrorKind::usage, "--faults: expected key=value, got \"" + item + "\"");
        }
        const std::string key = item.substr(0, eq);
        const std::string value = item.substr(eq + 1);
        try {
            if (key == "rate" || key == "reset") {
                auto share = parse_share(key, value);
                if (!share) {
                    return std::unexpected(share.error());
                }
                (key == "rate" ? spec.rate : spec.reset) = *share;
            } else if (key == "status") {
                spec.statuses.clear();
                std::istringstream codes(value);
                std::string code;
                while (std::getline(codes, code, '|')) {
                    const int status = std::stoi(code);
                    if (status < 400 || status > 599) {
                        return util::fail(util::ErrorKind::usage,
                                          "--faults: status " + code + " is not an error status");
                    }
                    spec.statuses.push_back(status);
                }
                if (spec.statuses.empty()) {
                    return util::fail(util::ErrorKind::usage, "--faults: status= needs at least one code");
                }
            } else if (key == "retry-after") {
                spec.retry_after = std::stoi(value);
            } else if (key == "seed") {
                spec.seed = std::stoull(value);
            } else {
                return util::fail(util::ErrorKind::usage,
                                  "--faults: unknown key \"" + key +
                                      "\" (known: rate, status, reset, retry-after, seed)");
            }
        } catch (const std::exception&) {
            return util::fail(util::ErrorKind::usage, "--faults: bad value in \"" + item + "\"");
        }
    }
    if (spec.rate + spec.reset > 1.0) {
        return util::fail(util::ErrorKind::usage, "--faults: rate + reset must not exceed 1");
    }
    return spec;
}

FaultInjector::FaultInjector(FaultSpec spec)
    : m_spec(std::move(spec)), m_rng(m_spec.seed ? *m_spec.seed : std::random_device{}()) {}

FaultInjector::Decision FaultInjector::decide() {
    if (!m_spec.active()) {
        return {};
    }
    std::lock_guard lock(m_mutex);
    const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
    if (draw < m_spec.reset) {
        return {Action::reset, 0};
    }
    if (draw < m_spec.reset + m_spec.rate) {
        const size_t pick = std::uniform_int_distribution<size_t>(0, m_spec.statuses.size() - 1)(m_rng);
        return {Action::fail, m_spec.statuses[pick]};
    }
    return {};
}

ApiError FaultInjector::error_for(int status) const {
    switch (status) {
    case 429:
        return too_many_requests("Too many requests, please try again later.", m_spec.retry_after);
    case 503:
        return service_unavailable("The server is currently unable to handle the request",
                                   m_spec.retry_after);
    case 500:
        return internal_error("fakekube: injected fault");
    case 504: {
        ApiError error;
        error.code = 504;
        error.reason = "Timeout";
        error.message = "The server was unable to return a response in the time allotted, but may still be "
                        "processing the request";
        error.details = json::object();
        return error;
    }
    default: {
        ApiError error;
        error.code = status;
        error.reason = status >= 500 ? "InternalError" : "BadRequest";
        error.message = "fakekube: injected fault " + std::to_string(status);
        return error;
    }
    }
}

} // namespace meshlink::fakekube
