// Routing, authorization and the read side (get, list, watch, logs, exec) of ApiServer.
#include "tests/fakekube/apiserver.hpp"

#include "tests/fakekube/discovery.hpp"
#include "tests/fakekube/rbac.hpp"
#include "tests/fakekube/resources.hpp"
#include "tests/fakekube/scripting.hpp"
#include "tests/fakekube/table.hpp"
#include "tests/fakekube/util.hpp"

#include <algorithm>

namespace meshlink::fakekube {
namespace {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) {
            slash = path.size();
        }
        if (slash > start) {
            out.push_back(path.substr(start, slash - start));
        }
        start = slash + 1;
    }
    return out;
}

struct Route {
    const ResourceInfo* resource = nullptr;
    std::string ns;
    std::string name;
    std::string subresource;
    bool unknown_resource = false; // a group version we serve, a resource we do not
};

// /api/v1/..., /apis/G/V/...; nullopt when the path is not a resource path at all.
std::optional<Route> parse_route(const std::string& path) {
    auto parts = split_path(path);
    std::string group;
    std::string version;
    size_t at = 0;
    if (parts.size() >= 3 && parts[0] == "api") {
        version = parts[1];
        at = 2;
    } else if (parts.size() >= 4 && parts[0] == "apis") {
        group = parts[1];
        version = parts[2];
        at = 3;
    } else {
        return std::nullopt;
    }
    std::vector<std::string> rest(parts.begin() + static_cast<long>(at), parts.end());
    Route route;
    if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status" && rest[2] != "finalize") {
        route.ns = rest[1];
        rest.erase(rest.begin(), rest.begin() + 2);
        route.resource = find_resource(group, version, rest[0]);
        if (route.resource != nullptr && !route.resource->namespaced) {
            route.resource = nullptr;
        }
    } else {
        route.resource = find_resource(group, version, rest[0]);
    }
    if (route.resource == nullptr || rest.size() > 3) {
        route.unknown_resource = true;
        return route;
    }
    if (rest.size() >= 2) {
        route.name = rest[1];
    }
    if (rest.size() == 3) {
        route.subresource = rest[2];
        if (!route.resource->has_subresource(route.subresource)) {
            route.unknown_resource = true;
        }
    }
    // A namespaced object must be addressed inside its namespace; lists may span all of them.
    if (route.resource->namespaced && route.ns.empty() && !route.name.empty()) {
        route.unknown_resource = true;
    }
    return route;
}

std::string verb_for(const Request& request, const Route& route) {
    const bool collection = route.name.empty();
    const std::string watch = request.param("watch");
    if (request.method == "GET") {
        if (collection) {
            return watch == "true" || watch == "1" ? "watch" : "list";
        }
        return route.subresource == "exec" ? "create" : "get";
    }
    if (request.method == "POST") {
        return "create";
    }
    if (request.method == "PUT") {
        return "update";
    }
    if (request.method == "PATCH") {
        return "patch";
    }
    if (request.method == "DELETE") {
        return collection ? "deletecollection" : "delete";
    }
    return "";
}

json strip_type_meta(json object) {
    object.erase("kind");
    object.erase("apiVersion");
    return object;
}

std::string watch_line(const std::string& type, const json& object) {
    return json{{"type", type}, {"object", object}}.dump() + "\n";
}

std::string object_key(const json& object) {
    const json& meta = child(object, "metadata");
    return meta.value("namespace", "") + "/" + meta.value("name", "");
}

} // namespace

std::string request_class(const Request& request) {
    if (request.method != "GET") {
        return request.method;
    }
    auto route = parse_route(request.path);
    if (!route || route->unknown_resource || !route->name.empty()) {
        return "GET";
    }
    const std::string watch = request.param("watch");
    return watch == "true" || watch == "1" ? "WATCH" : "LIST";
}

util::Result<std::unique_ptr<ApiServer>> ApiServer::create(ServerConfig config) {
    auto cluster_ips = ClusterIpAllocator::create(config.service_cidr);
    if (!cluster_ips) {
        return std::unexpected(cluster_ips.error());
    }
    auto pod_ips = PodIpAllocator::create(config.pod_cidr);
    if (!pod_ips) {
        return std::unexpected(pod_ips.error());
    }
    std::unique_ptr<ApiServer> server(
        new ApiServer(std::move(config), std::move(*cluster_ips), std::move(*pod_ips)));
    server->bootstrap();
    return server;
}

ApiServer::ApiServer(ServerConfig config, ClusterIpAllocator cluster_ips, PodIpAllocator pod_ips)
    : m_config(std::move(config)), m_cluster_ips(std::move(cluster_ips)), m_pod_ips(std::move(pod_ips)) {}

Outcome ApiServer::handle(const Request& request) {
    std::lock_guard lock(m_mutex);
    try {
        return dispatch(request);
    } catch (const std::exception& error) {
        return internal_error(std::string("fakekube: ") + error.what()).to_response();
    }
}

Outcome ApiServer::dispatch(const Request& request) {
    const std::string& path = request.path;
    if (!accepts_json(request.accept)) {
        // fakekube writes JSON only; a client that accepts nothing else (protobuf alone) is told so.
        return not_acceptable(request.accept).to_response();
    }
    const bool rbac = m_config.rbac || rbac_enabled_by_config(m_store);
    auto route = parse_route(path);
    if (!route) {
        Attributes what{false, request.method == "GET" ? "get" : "post", "", "", "", "", "", path};
        if (auto decision = authorize(m_store, rbac, request.identity, what); !decision.allowed) {
            return forbidden(nullptr, "", forbidden_message(request.identity, what, "")).to_response();
        }
        if (request.method != "GET") {
            return method_not_allowed().to_response();
        }
        if (path == "/version" || path == "/version/") {
            return Response::json_body(200, discovery::version_info());
        }
        if (path == "/healthz" || path == "/livez" || path == "/readyz") {
            return Response::text(200, "ok");
        }
        if (auto document = discovery::discovery_document(path, m_config.server_address)) {
            return Response::json_body(200, *document);
        }
        if (auto document = discovery::openapi_document(path)) {
            return Response::json_body(200, *document);
        }
        if (path.rfind("/api", 0) == 0 || path.rfind("/openapi", 0) == 0) {
            return resource_not_found().to_response();
        }
        return Response::text(404, "404 page not found\n");
    }
    if (route->unknown_resource) {
        return resource_not_found().to_response();
    }
    Call call{request,     *route->resource,   route->ns,
              route->name, route->subresource, request.param("dryRun") == "All"};
    Attributes what;
    what.verb = verb_for(request, *route);
    what.group = call.resource.group;
    what.resource = call.resource.plural;
    what.subresource = call.subresource;
    what.ns = call.ns;
    what.name = call.name;
    if (what.verb.empty()) {
        return method_not_allowed().to_response();
    }
    if (auto decision = authorize(m_store, rbac, request.identity, what); !decision.allowed) {
        return forbidden(&call.resource, call.name,
                         forbidden_message(request.identity, what, call.resource.qualified()))
            .to_response();
    }
    if (request.method == "GET") {
        return resource_request(request, call);
    }
    json before = nullptr;
    if (!call.name.empty()) {
        if (const json* current = m_store.get(call.resource, call.ns, call.name)) {
            before = *current;
        }
    }
    Outcome outcome = resource_request(request, call);
    if (const auto* response = std::get_if<Response>(&outcome)) {
        record_write(call, what.verb, *response, std::move(before));
    }
    return outcome;
}

void ApiServer::record_write(const Call& call, const std::string& verb, const Response& response,
                             json before) {
    // The object as stored after a successful create, update or patch; otherwise (deletes, evictions,
    // refused writes) the object as it was, so an eviction's entry still names the Pod's node.
    json object = std::move(before);
    // A TokenRequest's answer holds the token: the entry keeps the ServiceAccount instead.
    if (response.status >= 200 && response.status < 300 && call.subresource != "eviction" &&
        call.subresource != "token") {
        json answer = json::parse(response.body, nullptr, false);
        if (answer.is_object() && answer.value("kind", "") != "Status") {
            object = std::move(answer);
        }
    }
    m_writes.push_back({{"seq", ++m_write_seq},
                        {"verb", call.subresource == "eviction" ? std::string("evict") : verb},
                        {"group", call.resource.group},
                        {"resource", call.resource.plural},
                        {"subresource", call.subresource},
                        {"namespace", call.ns},
                        {"name", call.name.empty() ? child(object, "metadata").value("name", "") : call.name},
                        {"user", call.request.identity.user},
                        {"code", response.status},
                        {"dryRun", call.dry_run},
                        {"object", std::move(object)}});
    while (m_writes.size() > k_write_log) {
        m_writes.pop_front();
        ++m_writes_dropped;
    }
}

Outcome ApiServer::resource_request(const Request& request, const Call& call) {
    const bool collection = call.name.empty();
    const std::string& method = request.method;
    const std::string& sub = call.subresource;
    if (!call.resource.creatable) {
        // Review resources only take POST on the collection.
        if (method == "POST" && collection) {
            return access_review(call);
        }
        return method_not_allowed().to_response();
    }
    if (sub == "log") {
        return method == "GET" ? pod_log(call) : method_not_allowed().to_response();
    }
    if (sub == "exec") {
        return method == "GET" || method == "POST" ? exec(call) : method_not_allowed().to_response();
    }
    if (sub == "token") {
        return method == "POST" ? token_request(call) : method_not_allowed().to_response();
    }
    if (sub == "eviction") {
        return method == "POST" ? evict(call) : method_not_allowed().to_response();
    }
    if (sub == "finalize") {
        return method == "PUT" ? update(call) : method_not_allowed().to_response();
    }
    if (method == "GET") {
        if (!collection) {
            return get(call);
        }
        const std::string watch_param = request.param("watch");
        return watch_param == "true" || watch_param == "1" ? watch(call) : Outcome(list(call));
    }
    if (method == "POST" && collection && sub.empty()) {
        return create(call);
    }
    if (method == "PUT" && !collection) {
        return update(call);
    }
    if (method == "PATCH" && !collection) {
        return patch(call);
    }
    if (method == "DELETE" && sub.empty()) {
        return collection ? remove_collection(call) : remove(call);
    }
    return method_not_allowed().to_response();
}

Response ApiServer::get(const Call& call) {
    const json* object = m_store.get(call.resource, call.ns, call.name);
    if (object == nullptr) {
        return not_found(call.resource, call.name).to_response();
    }
    switch (negotiate(call.request.accept)) {
    case Representation::partial_metadata:
        return Response::json_body(200, partial_metadata(*object));
    case Representation::table:
        return Response::json_body(
            200,
            make_table(call.resource, {*object},
                       json{{"resourceVersion", child(*object, "metadata").value("resourceVersion", "")}},
                       call.request.param("includeObject")));
    case Representation::object:
        break;
    }
    return Response::json_body(200, *object);
}

Response ApiServer::list(const Call& call) {
    auto labels = LabelSelector::parse(call.request.param("labelSelector"));
    if (!labels) {
        return bad_request(labels.error().message).to_response();
    }
    auto fields = FieldSelector::parse(call.request.param("fieldSelector"), call.resource);
    if (!fields) {
        return bad_request(fields.error().message).to_response();
    }
    uint64_t revision = m_store.revision();
    std::string start_after;
    if (const std::string token = call.request.param("continue"); !token.empty()) {
        auto decoded = decode_continue(token);
        if (!decoded) {
            return bad_request("continue key is not valid: illegal base64 data or malformed continue token")
                .to_response();
        }
        revision = decoded->first;
        start_after = decoded->second;
    }
    long long limit = 0;
    if (const std::string text = call.request.param("limit"); !text.empty()) {
        try {
            limit = std::stoll(text);
        } catch (const std::exception&) {
            return bad_request("limit: Invalid value: \"" + text + "\": must be an integer").to_response();
        }
    }
    std::vector<json> items;
    std::string continue_token;
    long long remaining = 0;
    for (const json* object : m_store.list(call.resource, call.ns)) {
        if (!start_after.empty() && object_key(*object) <= start_after) {
            continue;
        }
        if (!labels->matches(child(child(*object, "metadata"), "labels")) ||
            !fields->matches(call.resource, *object)) {
            continue;
        }
        if (limit > 0 && static_cast<long long>(items.size()) >= limit) {
            ++remaining;
            continue;
        }
        items.push_back(*object);
    }
    json metadata = {{"resourceVersion", std::to_string(revision)}};
    if (remaining > 0) {
        continue_token = encode_continue(revision, object_key(items.back()));
        metadata["continue"] = continue_token;
        metadata["remainingItemCount"] = remaining;
    }
    switch (negotiate(call.request.accept)) {
    case Representation::table:
        return Response::json_body(
            200, make_table(call.resource, items, metadata, call.request.param("includeObject")));
    case Representation::partial_metadata: {
        json partial = json::array();
        for (const auto& item : items) {
            partial.push_back(strip_type_meta(partial_metadata(item)));
        }
        return Response::json_body(200, {{"kind", "PartialObjectMetadataList"},
                                         {"apiVersion", "meta.k8s.io/v1"},
                                         {"metadata", metadata},
                                         {"items", partial}});
    }
    case Representation::object:
        break;
    }
    json out_items = json::array();
    for (auto& item : items) {
        out_items.push_back(strip_type_meta(std::move(item)));
    }
    return Response::json_body(200, {{"kind", call.resource.kind + "List"},
                                     {"apiVersion", call.resource.group_version()},
                                     {"metadata", metadata},
                                     {"items", out_items}});
}

Outcome ApiServer::watch(const Call& call) {
    auto labels = LabelSelector::parse(call.request.param("labelSelector"));
    if (!labels) {
        return bad_request(labels.error().message).to_response();
    }
    auto fields = FieldSelector::parse(call.request.param("fieldSelector"), call.resource);
    if (!fields) {
        return bad_request(fields.error().message).to_response();
    }
    WatchPlan plan;
    plan.resource = &call.resource;
    plan.ns = call.ns;
    plan.labels = std::move(*labels);
    plan.fields = std::move(*fields);
    if (const std::string timeout = call.request.param("timeoutSeconds"); !timeout.empty()) {
        try {
            plan.timeout = std::chrono::seconds(std::max(0LL, std::stoll(timeout)));
        } catch (const std::exception&) {
            return bad_request("timeoutSeconds: Invalid value: \"" + timeout + "\": must be an integer")
                .to_response();
        }
    }
    const std::string rv = call.request.param("resourceVersion");
    const bool initial_events = call.request.param("sendInitialEvents") == "true";
    if (rv.empty() || rv == "0" || initial_events) {
        // "Get state and start at most recent": synthetic ADDED events for what exists now.
        for (const json* object : m_store.list(call.resource, call.ns)) {
            if (plan.labels.matches(child(child(*object, "metadata"), "labels")) &&
                plan.fields.matches(call.resource, *object)) {
                plan.initial.push_back(watch_line("ADDED", *object));
            }
        }
        plan.start_revision = m_store.revision();
        if (initial_events) {
            json bookmark = {{"kind", call.resource.kind},
                             {"apiVersion", call.resource.group_version()},
                             {"metadata",
                              {{"resourceVersion", std::to_string(plan.start_revision)},
                               {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
            plan.initial.push_back(watch_line("BOOKMARK", bookmark));
        }
        return plan;
    }
    uint64_t start = 0;
    try {
        start = std::stoull(rv);
    } catch (const std::exception&) {
        return bad_request("resourceVersion: Invalid value: \"" + rv + "\": must be an integer")
            .to_response();
    }
    if (start < m_store.oldest_revision()) {
        plan.initial.push_back(watch_line("ERROR", gone("too old resource version: " + rv + " (" +
                                                        std::to_string(m_store.oldest_revision()) + ")")
                                                       .to_status()));
        plan.finished = true;
        return plan;
    }
    plan.start_revision = start;
    return plan;
}

WatchPoll ApiServer::poll_watch(const WatchPlan& plan, uint64_t after) {
    std::lock_guard lock(m_mutex);
    WatchPoll poll;
    poll.revision = m_store.revision();
    if (after < m_store.oldest_revision()) {
        poll.expired = true;
        poll.lines.push_back(watch_line("ERROR", gone("too old resource version: " + std::to_string(after) +
                                                      " (" + std::to_string(m_store.oldest_revision()) + ")")
                                                     .to_status()));
        return poll;
    }
    auto selected = [&](const json& object) {
        if (object.is_null()) {
            return false;
        }
        if (!plan.ns.empty() && plan.resource->namespaced &&
            child(object, "metadata").value("namespace", "") != plan.ns) {
            return false;
        }
        return plan.labels.matches(child(child(object, "metadata"), "labels")) &&
               plan.fields.matches(*plan.resource, object);
    };
    for (const WatchEvent* event : m_store.events_after(after)) {
        if (event->resource != plan.resource) {
            continue;
        }
        const bool now = selected(event->object);
        if (event->type == "MODIFIED") {
            const bool before = selected(event->previous);
            if (now && before) {
                poll.lines.push_back(watch_line("MODIFIED", event->object));
            } else if (now) {
                poll.lines.push_back(watch_line("ADDED", event->object));
            } else if (before) {
                poll.lines.push_back(watch_line("DELETED", event->object));
            }
        } else if (now) {
            poll.lines.push_back(watch_line(event->type, event->object));
        }
    }
    return poll;
}

namespace {

// The container a log or exec request means: `container=`, else the only one (or the
// kubectl.kubernetes.io/default-container annotation's); an error answer otherwise.
std::variant<std::string, Response> pick_container(const json& pod, const std::string& name,
                                                   const std::string& requested) {
    const json containers = child(pod, "spec").value("containers", json::array());
    if (!requested.empty()) {
        if (std::none_of(containers.begin(), containers.end(),
                         [&](const json& c) { return c.value("name", "") == requested; })) {
            return bad_request("container " + requested + " is not valid for pod " + name).to_response();
        }
        return requested;
    }
    if (containers.size() == 1) {
        return containers[0].value("name", "");
    }
    std::string names;
    for (const auto& c : containers) {
        names += (names.empty() ? "" : " ") + c.value("name", "");
    }
    return bad_request("a container name must be specified for pod " + name + ", choose one of: [" + names +
                       "]")
        .to_response();
}

} // namespace

Response ApiServer::pod_log(const Call& call) {
    const json* pod = m_store.get(call.resource, call.ns, call.name);
    if (pod == nullptr) {
        return not_found(call.resource, call.name).to_response();
    }
    auto picked = pick_container(*pod, call.name, call.request.param("container"));
    if (auto* answer = std::get_if<Response>(&picked)) {
        return *answer;
    }
    const std::string container = std::get<std::string>(picked);
    if (child(*pod, "status").value("phase", "Pending") == "Pending") {
        return bad_request("container " + go_quote(container) + " in pod " + go_quote(call.name) +
                           " is waiting to start: ContainerCreating")
            .to_response();
    }
    if (const std::string previous = call.request.param("previous"); previous == "true" || previous == "1") {
        return bad_request("previous terminated container " + go_quote(container) + " in pod " +
                           go_quote(call.name) + " not found")
            .to_response();
    }
    std::string text = script::for_container(*pod, script::k_log, container).value_or("");
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
        const size_t end = text.find('\n', start);
        lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start + 1));
        start = end == std::string::npos ? text.size() : end + 1;
    }
    if (const std::string tail = call.request.param("tailLines"); !tail.empty()) {
        long long count = 0;
        try {
            count = std::stoll(tail);
        } catch (const std::exception&) {
            return bad_request("tailLines: Invalid value: " + go_quote(tail) + ": must be an integer")
                .to_response();
        }
        if (count >= 0 && static_cast<size_t>(count) < lines.size()) {
            lines.erase(lines.begin(), lines.end() - count);
        }
    }
    const std::string stamps = call.request.param("timestamps");
    const std::string started = child(*pod, "status").value("startTime", "");
    text.clear();
    for (const auto& line : lines) {
        text += (stamps == "true" || stamps == "1") && !started.empty()
                    ? started.substr(0, started.size() - 1) + ".000000000Z " + line
                    : line;
    }
    if (const std::string limit = call.request.param("limitBytes"); !limit.empty()) {
        try {
            text = text.substr(0, static_cast<size_t>(std::max(0LL, std::stoll(limit))));
        } catch (const std::exception&) {
            return bad_request("limitBytes: Invalid value: " + go_quote(limit) + ": must be an integer")
                .to_response();
        }
    }
    return Response::text(200, text);
}

Outcome ApiServer::exec(const Call& call) {
    const json* pod = m_store.get(call.resource, call.ns, call.name);
    if (pod == nullptr) {
        return not_found(call.resource, call.name).to_response();
    }
    auto picked = pick_container(*pod, call.name, call.request.param("container"));
    if (auto* answer = std::get_if<Response>(&picked)) {
        return *answer;
    }
    const std::string container = std::get<std::string>(picked);
    const std::string phase = child(*pod, "status").value("phase", "");
    if (phase == "Succeeded" || phase == "Failed") {
        return bad_request("cannot exec into a container in a completed pod; current phase is " + phase)
            .to_response();
    }
    ExecPlan plan;
    plan.command = call.request.params("command");
    if (plan.command.empty()) {
        return bad_request("you must specify at least 1 command").to_response();
    }
    auto flag = [&](const char* name) {
        const std::string value = call.request.param(name);
        return value == "true" || value == "1";
    };
    plan.want_stdin = flag("stdin");
    plan.want_stdout = flag("stdout");
    plan.want_stderr = flag("stderr");
    const json& annotations = child(child(*pod, "metadata"), "annotations");
    const std::string table_text = script::for_container(*pod, script::k_exec, container).value_or("");
    if (!table_text.empty()) {
        // A command table: the first rule whose "command" equals the command, or whose "prefix" starts it.
        json table = json::parse(table_text, nullptr, false);
        const json* rule = nullptr;
        if (table.is_array()) {
            for (const auto& candidate : table) {
                const json exact = candidate.value("command", json());
                const json prefix = candidate.value("prefix", json());
                if (exact.is_array() && exact == json(plan.command)) {
                    rule = &candidate;
                    break;
                }
                if (prefix.is_array() && prefix.size() <= plan.command.size() &&
                    std::equal(prefix.begin(), prefix.end(), plan.command.begin(),
                               [](const json& a, const std::string& b) { return a == b; })) {
                    rule = rule == nullptr ? &candidate : rule;
                }
            }
        }
        if (!table.is_array()) {
            plan.stderr_text =
                "fakekube: the " + std::string(script::k_exec) + " annotation is not a JSON list\n";
            plan.exit_code = 126;
        } else if (rule == nullptr) {
            std::string joined;
            for (const auto& part : plan.command) {
                joined += (joined.empty() ? "" : " ") + part;
            }
            plan.stderr_text = "fakekube: no scripted answer for [" + joined + "] in pod " + call.name + "\n";
            plan.exit_code = 127;
        } else {
            plan.stdout_text = rule->value("stdout", "");
            plan.stderr_text = rule->value("stderr", "");
            plan.exit_code = rule->value("exitCode", 0);
            plan.echo_stdin = rule->value("stdoutFromStdin", false);
        }
    } else {
        plan.stdout_text = annotations.value(script::k_exec_stdout, "");
        plan.stderr_text = annotations.value(script::k_exec_stderr, "");
        try {
            plan.exit_code = std::stoi(annotations.value(script::k_exec_exit, "0"));
        } catch (const std::exception&) {
            plan.exit_code = 0;
        }
    }
    m_execs.push_back({{"namespace", call.ns},
                       {"pod", call.name},
                       {"container", container},
                       {"command", plan.command},
                       {"exitCode", plan.exit_code}});
    if (m_execs.size() > 1000) {
        m_execs.erase(m_execs.begin());
    }
    return plan;
}

} // namespace meshlink::fakekube
