#include "kube/client.hpp"

#include "kube/auth.hpp"
#include "kube/http_transport.hpp"
#include "kube/redact.hpp"
#include "kube/status.hpp"
#include "util/duration.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/terminal.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <random>
#include <thread>

namespace meshlink::kube {
namespace {

constexpr std::string_view k_metadata_list_accept =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
constexpr std::string_view k_metadata_accept =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

bool is_success(int status) {
    return status >= 200 && status <= 299;
}

std::string format_ms(std::chrono::steady_clock::duration elapsed) {
    return fmt::format("{} ms", std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
}

// Prints kube-apiserver's `Warning: 299 - "text"` headers the way kubectl does.
void print_warnings(const Headers& headers) {
    for (const auto& [name, value] : headers) {
        if (detail::ascii_lower(name) != "warning") {
            continue;
        }
        auto open = value.find('"');
        auto close = value.rfind('"');
        if (open != std::string::npos && close != std::string::npos && close > open) {
            util::log::warn(value.substr(open + 1, close - open - 1));
        } else {
            util::log::warn(value);
        }
    }
}

// Keeps apiVersion, kind and metadata: what PartialObjectMetadata carries, for servers that ignored the
// Accept header and sent whole objects.
nlohmann::json metadata_only(const nlohmann::json& item) {
    if (!item.is_object() || item.value("kind", std::string()) == "PartialObjectMetadata") {
        return item;
    }
    nlohmann::json stripped = nlohmann::json::object();
    for (const char* key : {"apiVersion", "kind", "metadata"}) {
        if (item.contains(key)) {
            stripped[key] = item[key];
        }
    }
    return stripped;
}

double default_random() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

} // namespace

std::optional<std::string> Response::header(std::string_view name) const {
    const std::string wanted = detail::ascii_lower(name);
    for (const auto& [key, value] : headers) {
        if (detail::ascii_lower(key) == wanted) {
            return value;
        }
    }
    return std::nullopt;
}

struct Client::Impl {
    RestConfig config;
    ClientOptions options;
    std::unique_ptr<Authenticator> auth;
    std::unique_ptr<detail::HttpTransport> transport;

    std::string display_url(const Request& request) const { return transport->display_url(request); }

    util::Result<Response> send(const Request& request) {
        if (auto valid = check_path(request.path); !valid) {
            return std::unexpected(valid.error());
        }
        int attempt = 0;
        int sends = 0;
        bool rotated = false;
        for (;;) {
            ++attempt;
            auto credentials = auth->current();
            if (!credentials) {
                return std::unexpected(credentials.error().with_context(
                    fmt::format("{} {}", request.method, display_url(request))));
            }
            detail::Exchange result = transport->perform(request, *credentials);
            ++sends;

            AttemptOutcome outcome;
            outcome.method = request.method;
            outcome.caller_says_safe = request.retry_unsafe;
            std::optional<util::Error> error;
            if (result.code != CURLE_OK) {
                auto [failure, described] = transport->failure(request, result);
                outcome.transport = failure;
                error = std::move(described);
                util::log::write(6,
                                 fmt::format("{} {} failed in {}: {}", request.method, display_url(request),
                                             format_ms(result.elapsed), result.curl_detail));
            } else {
                const int status = result.response.status;
                util::log::write(6,
                                 fmt::format("{} {} {} {} in {}", request.method, display_url(request),
                                             status, http_reason_phrase(status), format_ms(result.elapsed)));
                if (util::log::enabled(7)) {
                    for (const auto& [name, value] : result.response.headers) {
                        util::log::write(7,
                                         fmt::format("    {}: {}", name, redact_header_value(name, value)));
                    }
                }
                if (util::log::enabled(8) && !result.response.body.empty()) {
                    transport->log_body("Response Body", request.path, result.response.body);
                }
                outcome.http_status = status;
                if (auto retry_after = result.response.header("Retry-After")) {
                    outcome.retry_after = parse_retry_after(*retry_after);
                }
                // A 401 may only mean the exec credential or the projected token rotated: refresh once.
                if (status == 401 && !rotated && auth->can_refresh()) {
                    rotated = true;
                    auto changed = auth->refresh_after_unauthorized(*credentials);
                    if (!changed) {
                        return std::unexpected(changed.error().with_context(
                            fmt::format("{} {}", request.method, display_url(request))));
                    }
                    if (*changed) {
                        util::log::write(
                            4, fmt::format("{} {}: 401 Unauthorized; retrying with rotated credentials",
                                           request.method, display_url(request)));
                        --attempt;
                        continue;
                    }
                }
            }

            const double unit = options.random ? options.random() : default_random();
            auto decision = decide_retry(options.retry, outcome, attempt, unit);
            if (!decision.retry) {
                if (error) {
                    return std::unexpected(std::move(*error));
                }
                print_warnings(result.response.headers);
                result.response.attempts = sends;
                return std::move(result.response);
            }
            util::log::write(4, fmt::format("{}; retrying in {} ms (attempt {})",
                                            error ? error->message
                                                  : fmt::format("{} {}: {} {}", request.method,
                                                                display_url(request), outcome.http_status,
                                                                http_reason_phrase(outcome.http_status)),
                                            decision.delay.count(), attempt + 1));
            if (options.sleep) {
                options.sleep(decision.delay);
            } else {
                std::this_thread::sleep_for(decision.delay);
            }
        }
    }

    // Sends and decodes a JSON answer; non-2xx statuses become typed errors.
    util::Result<nlohmann::json> call(const Request& request) {
        auto response = send(request);
        if (!response) {
            return std::unexpected(response.error());
        }
        if (!is_success(response->status)) {
            return std::unexpected(
                status_error(request.method, request.path, response->status, response->body));
        }
        if (response->body.empty()) {
            return nlohmann::json();
        }
        auto doc = util::parse_json(response->body);
        if (!doc) {
            return util::fail(util::ErrorKind::parse,
                              fmt::format("{} {}: {} {}: the answer is {}", request.method, request.path,
                                          response->status, http_reason_phrase(response->status),
                                          doc.error().message));
        }
        return std::move(*doc);
    }

    util::Result<void> list_pages(std::string_view path, const ListOptions& options,
                                  const std::function<Visit(nlohmann::json& page)>& on_page) {
        std::string continue_token;
        do {
            Request request;
            request.path = std::string(path);
            if (!options.label_selector.empty()) {
                request.query.emplace_back("labelSelector", options.label_selector);
            }
            if (!options.field_selector.empty()) {
                request.query.emplace_back("fieldSelector", options.field_selector);
            }
            if (options.page_size > 0) {
                request.query.emplace_back("limit", std::to_string(options.page_size));
            }
            if (!continue_token.empty()) {
                request.query.emplace_back("continue", continue_token);
            }
            if (options.metadata_only) {
                request.headers.emplace_back("Accept", std::string(k_metadata_list_accept));
            }
            auto page = call(request);
            if (!page) {
                return std::unexpected(page.error());
            }
            if (!page->is_object()) {
                return util::fail(util::ErrorKind::parse,
                                  fmt::format("GET {}: the answer is not a list object", path));
            }
            continue_token.clear();
            if (auto metadata = page->find("metadata"); metadata != page->end() && metadata->is_object()) {
                continue_token = metadata->value("continue", std::string());
            }
            if (options.metadata_only) {
                if (auto items = page->find("items"); items != page->end() && items->is_array()) {
                    for (auto& item : *items) {
                        item = metadata_only(item);
                    }
                }
            }
            if (on_page(*page) == Visit::stop) {
                return {};
            }
        } while (!continue_token.empty());
        return {};
    }
};

Client::Client(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

util::Result<Client> Client::from_config(RestConfig config, ClientOptions options) {
    auto impl = std::make_unique<Impl>();
    auto transport = detail::HttpTransport::create(config);
    if (!transport) {
        return std::unexpected(transport.error());
    }
    impl->transport = std::move(*transport);
    auto auth = Authenticator::create(config, options.exec);
    if (!auth) {
        return std::unexpected(auth.error());
    }
    impl->auth = std::move(*auth);
    impl->config = std::move(config);
    impl->options = std::move(options);
    return Client(std::move(impl));
}

const RestConfig& Client::config() const {
    return m_impl->config;
}

const std::string& Client::default_namespace() const {
    return m_impl->config.namespace_name;
}

util::Result<Response> Client::send(const Request& request) {
    return m_impl->send(request);
}

util::Result<nlohmann::json> Client::get(std::string_view path, const GetOptions& options) {
    Request request;
    request.path = std::string(path);
    if (options.metadata_only) {
        request.headers.emplace_back("Accept", std::string(k_metadata_accept));
    }
    auto object = m_impl->call(request);
    if (object && options.metadata_only) {
        return metadata_only(*object);
    }
    return object;
}

util::Result<nlohmann::json> Client::list(std::string_view path, const ListOptions& options) {
    nlohmann::json merged;
    bool paged = false;
    auto collect = [&](nlohmann::json& page) {
        if (merged.is_null()) {
            merged = std::move(page);
            if (!merged.contains("items") || !merged["items"].is_array()) {
                merged["items"] = nlohmann::json::array();
            }
        } else {
            paged = true;
            if (auto items = page.find("items"); items != page.end() && items->is_array()) {
                for (auto& item : *items) {
                    merged["items"].push_back(std::move(item));
                }
            }
            merged["metadata"] = page.value("metadata", nlohmann::json::object());
        }
        return Visit::next;
    };
    auto listed = m_impl->list_pages(path, options, collect);
    if (!listed && listed.error().http_status == 410 && paged && options.page_size > 0) {
        // The continue token expired between pages: list everything in one go, as client-go's pager does.
        util::log::write(4,
                         fmt::format("GET {}: continue token expired; listing again without paging", path));
        merged = nullptr;
        ListOptions whole = options;
        whole.page_size = 0;
        listed = m_impl->list_pages(path, whole, collect);
    }
    if (!listed) {
        return std::unexpected(listed.error());
    }
    if (merged.contains("metadata") && merged["metadata"].is_object()) {
        merged["metadata"].erase("continue");
        merged["metadata"].erase("remainingItemCount");
    }
    return merged;
}

util::Result<void> Client::list_each(std::string_view path, const ListOptions& options,
                                     const std::function<Visit(const nlohmann::json& item)>& visit) {
    return m_impl->list_pages(path, options, [&](nlohmann::json& page) {
        if (auto items = page.find("items"); items != page.end() && items->is_array()) {
            for (const auto& item : *items) {
                if (visit(item) == Visit::stop) {
                    return Visit::stop;
                }
            }
        }
        return Visit::next;
    });
}

namespace {

Request write_request(std::string method, std::string_view path, std::string body,
                      const WriteOptions& options) {
    Request request;
    request.method = std::move(method);
    request.path = std::string(path);
    request.body = std::move(body);
    request.retry_unsafe = options.retry_unsafe;
    if (options.dry_run) {
        request.query.emplace_back("dryRun", "All");
    }
    if (!options.field_validation.empty()) {
        request.query.emplace_back("fieldValidation", options.field_validation);
    }
    if (!options.field_manager.empty()) {
        request.query.emplace_back("fieldManager", options.field_manager);
    }
    return request;
}

} // namespace

util::Result<nlohmann::json> Client::create(std::string_view path, const nlohmann::json& object,
                                            const WriteOptions& options) {
    return m_impl->call(write_request("POST", path, object.dump(), options));
}

util::Result<nlohmann::json> Client::update(std::string_view path, const nlohmann::json& object,
                                            const WriteOptions& options) {
    return m_impl->call(write_request("PUT", path, object.dump(), options));
}

util::Result<nlohmann::json> Client::patch(std::string_view path, PatchType type, const nlohmann::json& patch,
                                           const WriteOptions& options) {
    Request request = write_request("PATCH", path, patch.dump(), options);
    std::string content_type;
    switch (type) {
    case PatchType::merge:
        content_type = "application/merge-patch+json";
        break;
    case PatchType::json:
        content_type = "application/json-patch+json";
        break;
    case PatchType::strategic:
        content_type = "application/strategic-merge-patch+json";
        break;
    }
    request.headers.emplace_back("Content-Type", content_type);
    return m_impl->call(request);
}

util::Result<nlohmann::json> Client::remove(std::string_view path, const DeleteOptions& options) {
    Request request;
    request.method = "DELETE";
    request.path = std::string(path);
    if (options.dry_run) {
        request.query.emplace_back("dryRun", "All");
    }
    if (!options.propagation_policy.empty()) {
        request.query.emplace_back("propagationPolicy", options.propagation_policy);
    }
    if (options.grace_period_seconds) {
        request.query.emplace_back("gracePeriodSeconds", std::to_string(*options.grace_period_seconds));
    }
    if (!options.precondition_resource_version.empty()) {
        nlohmann::json body = {
            {"kind", "DeleteOptions"},
            {"apiVersion", "v1"},
            {"preconditions", {{"resourceVersion", options.precondition_resource_version}}}};
        request.body = body.dump();
    }
    return m_impl->call(request);
}

util::Result<ServerVersion> Client::server_version() {
    auto doc = get("/version");
    if (!doc) {
        return std::unexpected(doc.error());
    }
    if (!doc->is_object() || !(*doc).contains("gitVersion")) {
        return util::fail(util::ErrorKind::parse, "GET /version: the answer has no gitVersion");
    }
    ServerVersion version;
    version.git_version = doc->value("gitVersion", std::string());
    version.major = doc->value("major", std::string());
    version.minor = doc->value("minor", std::string());
    version.platform = doc->value("platform", std::string());
    return version;
}

std::string api_path(std::string_view group, std::string_view version, std::string_view resource,
                     std::string_view namespace_name, std::string_view name, std::string_view subresource) {
    std::string path = group.empty() ? "/api/" + path_segment(version)
                                     : fmt::format("/apis/{}/{}", path_segment(group), path_segment(version));
    if (!namespace_name.empty()) {
        path += "/namespaces/" + path_segment(namespace_name);
    }
    path += "/" + path_segment(resource);
    if (!name.empty()) {
        path += "/" + path_segment(name);
        if (!subresource.empty()) {
            path += "/" + path_segment(subresource);
        }
    }
    return path;
}

std::string path_segment(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '@') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

util::Result<void> check_path(std::string_view path) {
    const std::string_view without_query = path.substr(0, path.find('?'));
    std::size_t start = without_query.starts_with('/') ? 1 : 0;
    while (start <= without_query.size()) {
        const std::size_t end = std::min(without_query.find('/', start), without_query.size());
        const std::string_view raw = without_query.substr(start, end - start);
        // What the server sees once it has decoded the segment.
        std::string decoded;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '%' && i + 2 < raw.size() &&
                std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
                std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
                decoded += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                decoded += raw[i];
            }
        }
        if (decoded == "." || decoded == ".." || decoded.find_first_of("/%") != std::string::npos) {
            return util::fail(
                util::ErrorKind::invalid,
                fmt::format("refusing the request path {}: \"{}\" is not a valid name in a path "
                            "(a name may not be \".\" or \"..\", nor contain \"/\" or \"%\")",
                            util::printable(path), util::printable(decoded)));
        }
        start = end + 1;
    }
    return {};
}

std::string url_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

} // namespace meshlink::kube
