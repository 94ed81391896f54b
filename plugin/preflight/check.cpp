#include "plugin/preflight/check.hpp"

#include <algorithm>

namespace meshlink::plugin::preflight {

Check from_probe(probe::Check verdict, std::string cluster) {
    Status status = Status::unknown;
    switch (verdict.status) {
    case probe::Status::pass:
        status = Status::pass;
        break;
    case probe::Status::warn:
        status = Status::warn;
        break;
    case probe::Status::fail:
        status = Status::fail;
        break;
    case probe::Status::unknown:
        status = Status::unknown;
        break;
    }
    return Check{std::move(verdict.id),   Scope::node, std::move(cluster), status, std::move(verdict.message),
                 std::move(verdict.hint), std::nullopt};
}

std::string_view to_string(Scope scope) {
    switch (scope) {
    case Scope::kubeconfig:
        return "kubeconfig";
    case Scope::cluster:
        return "cluster";
    case Scope::mesh:
        return "mesh";
    case Scope::node:
        return "node";
    }
    return "cluster";
}

std::string_view to_string(Status status) {
    switch (status) {
    case Status::pass:
        return "pass";
    case Status::warn:
        return "warn";
    case Status::fail:
        return "fail";
    case Status::unknown:
        return "unknown";
    }
    return "unknown";
}

int severity(Status status) {
    switch (status) {
    case Status::pass:
        return 0;
    case Status::unknown:
        return 1;
    case Status::warn:
        return 2;
    case Status::fail:
        return 3;
    }
    return 1;
}

Status worst(Status a, Status b) {
    return severity(a) >= severity(b) ? a : b;
}

bool any_failed(const std::vector<Check>& checks) {
    return std::any_of(checks.begin(), checks.end(),
                       [](const Check& check) { return check.status == Status::fail; });
}

nlohmann::ordered_json to_json(const std::vector<Check>& checks) {
    using Json = nlohmann::ordered_json;
    Json out;
    out["schemaVersion"] = k_schema_version;
    out["result"] = any_failed(checks) ? "fail" : "pass";
    Json list = Json::array();
    for (const auto& check : checks) {
        Json item;
        item["id"] = check.id;
        item["scope"] = std::string(to_string(check.scope));
        item["cluster"] = check.cluster;
        item["status"] = std::string(to_string(check.status));
        item["message"] = check.message;
        item["hint"] = check.hint.empty() ? Json(nullptr) : Json(check.hint);
        if (check.nodes) {
            const auto& n = *check.nodes;
            item["nodes"] =
                Json{{"total", n.total},     {"pass", n.pass},       {"warn", n.warn},      {"fail", n.fail},
                     {"unknown", n.unknown}, {"missing", n.missing}, {"failing", n.failing}};
        }
        list.push_back(std::move(item));
    }
    out["checks"] = std::move(list);
    return out;
}

} // namespace meshlink::plugin::preflight
