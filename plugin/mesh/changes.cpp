// The journal's change kinds: one row each (k_kinds at the end of this file).
#include "plugin/mesh/changes.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/native.hpp"
#include "plugin/mesh/session.hpp"
#include "plugin/mesh/step_kubeconfig.hpp"
#include "plugin/mesh/tools.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>

#include <array>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

// The API object a change lives in (in the session's namespace).
struct ObjectRef {
    Kind kind;
    std::string name;
};

struct Row {
    Action action;
    std::string_view name; // in the journal's JSON
    // The object the change lives in; nullopt for changes outside the API.
    std::optional<ObjectRef> (*object)(const Change& change);
    // Whether that object (nullopt = absent) holds the change.
    Verdict (*verify)(const Change& change, const std::optional<json>& object, std::string_view ns);
    // Takes back a change verify found as recorded; `object` is its object as just read (null for changes
    // outside the API). Plans instead of writing in a dry run.
    util::Result<void> (*undo)(Session& session, Cluster& c, const Change& change, const json& object);
    std::string (*describe)(const Change& change, std::string_view ns);
};

std::string detail(const Change& change, const char* key) {
    return change.detail.value(key, "");
}

std::string resource_version(const json& object) {
    return text(child(object, "metadata"), "resourceVersion");
}

Verdict as_recorded() {
    return {Holds::as_recorded, {}};
}

Verdict changed(std::string why) {
    return {Holds::changed, std::move(why)};
}

void warn(Session& session, const Cluster& c, const std::string& message) {
    session.say(fmt::format("{}: warning: {}; left as it is", c.name, message));
}

std::optional<ObjectRef> outside_the_api(const Change&) {
    return std::nullopt;
}

Verdict always_recorded(const Change&, const std::optional<json>&, std::string_view) {
    return as_recorded();
}

// create: an object meshlink created (Service, EndpointSlice, or a Secret it then put keys in).

Kind created_kind(const Change& change) {
    const std::string kind = detail(change, "kind");
    return kind == "Service" ? Kind::service : kind == "EndpointSlice" ? Kind::endpoint_slice : Kind::secret;
}

std::optional<ObjectRef> create_object(const Change& change) {
    return ObjectRef{created_kind(change), detail(change, "name")};
}

Verdict create_verify(const Change& change, const std::optional<json>& object, std::string_view ns) {
    if (!object) {
        return {};
    }
    if (label(*object, df::k_managed_by_label) != df::k_managed_by_meshlink) {
        return changed(fmt::format("{} {}/{} no longer carries meshlink's label", detail(change, "kind"), ns,
                                   detail(change, "name")));
    }
    // Its keys are undone before it (newest first): any left are someone else's.
    if (created_kind(change) == Kind::secret && !child(*object, "data").empty()) {
        return changed(
            fmt::format("Secret {}/{} holds keys meshlink did not write", ns, detail(change, "name")));
    }
    return as_recorded();
}

util::Result<void> create_undo(Session& session, Cluster& c, const Change& change, const json& object) {
    const std::string& ns = session.options().ns;
    if (session.dry_run()) {
        session.plan({c.name, "leave", "delete " + describe(change, ns), std::nullopt, {}});
        return {};
    }
    return c.api->remove(created_kind(change), ns, detail(change, "name"), resource_version(object));
}

std::string create_describe(const Change& change, std::string_view ns) {
    return fmt::format("{} {}/{}", detail(change, "kind"), ns, detail(change, "name"));
}

// secret-key: one data key of a Secret, identified by the SHA-256 of the value join wrote; a value it
// replaced is in the journal's backup Secret.

std::optional<ObjectRef> secret_key_object(const Change& change) {
    return ObjectRef{Kind::secret, detail(change, "secret")};
}

Verdict secret_key_verify(const Change& change, const std::optional<json>& object, std::string_view ns) {
    bool present = false;
    const std::string value =
        object ? decoded_value(child(*object, "data"), detail(change, "key"), present) : "";
    if (!present) {
        return {};
    }
    if (sha256_hex(value) != detail(change, "sha256")) {
        return changed(describe(change, ns) + " was changed after join");
    }
    return as_recorded();
}

util::Result<void> secret_key_undo(Session& session, Cluster& c, const Change& change, const json& object) {
    const std::string& ns = session.options().ns;
    const std::string key = detail(change, "key");
    json restored = nullptr;
    const std::string backup_key = detail(change, "backup");
    if (detail(change, "previous") == "backup") {
        auto values = c.journal->restore({backup_key});
        if (!values) {
            return std::unexpected(values.error());
        }
        if (!values->contains(backup_key)) {
            warn(session, c,
                 fmt::format("the previous value of {} is not in the backup", describe(change, ns)));
            return {};
        }
        restored = util::base64_encode(values->at(backup_key));
    }
    if (session.dry_run()) {
        session.plan({c.name,
                      "leave",
                      fmt::format("{} {}", restored.is_null() ? "remove" : "restore", describe(change, ns)),
                      std::nullopt,
                      {}});
        return {};
    }
    const json patch = {{"metadata", {{"resourceVersion", resource_version(object)}}},
                        {"data", {{key, restored}}}};
    auto patched = c.api->patch(Kind::secret, ns, detail(change, "secret"), kube::PatchType::merge, patch);
    if (!patched) {
        return std::unexpected(patched.error());
    }
    if (!backup_key.empty()) {
        return c.journal->drop_backup({backup_key});
    }
    return {};
}

std::string secret_key_describe(const Change& change, std::string_view ns) {
    return fmt::format("Secret {}/{} data.{}", ns, detail(change, "secret"), detail(change, "key"));
}

// host-alias: one (ip, hostname) of a DaemonSet's or Deployment's pod template.

Kind aliased_kind(const Change& change) {
    return detail(change, "kind") == "Deployment" ? Kind::deployment : Kind::daemon_set;
}

std::optional<ObjectRef> host_alias_object(const Change& change) {
    return ObjectRef{aliased_kind(change), detail(change, "name")};
}

Verdict host_alias_verify(const Change& change, const std::optional<json>& object, std::string_view) {
    if (!object || !has_alias(template_aliases(*object), detail(change, "ip"), detail(change, "hostname"))) {
        return {};
    }
    return as_recorded();
}

util::Result<void> host_alias_undo(Session& session, Cluster& c, const Change& change, const json& object) {
    const std::string& ns = session.options().ns;
    const std::string ip = detail(change, "ip");
    const std::string hostname = detail(change, "hostname");
    json aliases = json::array();
    for (auto entry : template_aliases(object)) {
        if (text(entry, "ip") == ip) {
            json names = json::array();
            for (const auto& n : child(entry, "hostnames")) {
                if (n != hostname) {
                    names.push_back(n);
                }
            }
            if (names.empty()) {
                continue;
            }
            entry["hostnames"] = names;
        }
        aliases.push_back(entry);
    }
    const json operations =
        aliases.empty() && change.detail.value("fieldCreated", false)
            ? json::array({{{"op", "remove"}, {"path", "/spec/template/spec/hostAliases"}}})
            : json::array({{{"op", "add"}, {"path", "/spec/template/spec/hostAliases"}, {"value", aliases}}});
    const Kind kind = aliased_kind(change);
    const std::string name = detail(change, "name");
    if (session.dry_run()) {
        session.plan(
            {c.name,
             "leave",
             fmt::format("patch {} {}/{}: hostAliases -= {} {}", kind_name(kind), ns, name, ip, hostname),
             operations,
             {}});
        return {};
    }
    auto patched = guarded_patch(c, kind, ns, name, resource_version(object), operations);
    return patched ? util::Result<void>() : std::unexpected(patched.error());
}

std::string host_alias_describe(const Change& change, std::string_view ns) {
    return fmt::format("hostAliases {} {} of {} {}/{}", detail(change, "ip"), detail(change, "hostname"),
                       kind_name(aliased_kind(change)), ns, detail(change, "name"));
}

// replace-secret: a Secret's whole content replaced (cilium-ca copied from another cluster); the previous
// content is in the journal's backup Secret under "<name>.<key>".

std::optional<ObjectRef> replace_secret_object(const Change& change) {
    return ObjectRef{Kind::secret, detail(change, "name")};
}

Verdict replace_secret_verify(const Change& change, const std::optional<json>& object, std::string_view ns) {
    if (!object) {
        return {};
    }
    bool present = false;
    const std::string ca =
        decoded_value(child(*object, "data"), std::string(df::k_cilium_ca_cert_key), present);
    if (!present || sha256_hex(ca) != detail(change, "sha256")) {
        return changed(describe(change, ns) + " was changed after join");
    }
    return as_recorded();
}

util::Result<void> replace_secret_undo(Session& session, Cluster& c, const Change& change,
                                       const json& object) {
    const std::string& ns = session.options().ns;
    const std::string name = detail(change, "name");
    if (session.dry_run()) {
        session.plan({c.name, "leave", "restore " + describe(change, ns), std::nullopt, {}});
        return {};
    }
    if (!change.detail.value("existed", true)) {
        return c.api->remove(Kind::secret, ns, name, resource_version(object));
    }
    const std::vector<std::string> keys = change.detail.value("backup", std::vector<std::string>());
    auto values = c.journal->restore(keys);
    if (!values) {
        return std::unexpected(values.error());
    }
    json data = json::object();
    for (const auto& [key, value] : *values) {
        data[key.substr(key.find('.') + 1)] = util::base64_encode(value);
    }
    if (data.empty()) {
        warn(session, c,
             fmt::format("the previous content of {} is not in the backup", describe(change, ns)));
        return {};
    }
    json restored = object;
    restored["data"] = data;
    auto updated = c.api->update(Kind::secret, ns, restored);
    if (!updated) {
        return std::unexpected(updated.error());
    }
    return c.journal->drop_backup(keys);
}

std::string replace_secret_describe(const Change& change, std::string_view ns) {
    return fmt::format("Secret {}/{}", ns, detail(change, "name"));
}

// node-port: the clustermesh-apiserver Service moved from detail.previous to detail.value.

std::optional<ObjectRef> node_port_object(const Change&) {
    return ObjectRef{Kind::service, std::string(df::k_clustermesh_apiserver)};
}

Verdict node_port_verify(const Change& change, const std::optional<json>& object, std::string_view) {
    const json& ports = object ? child(child(*object, "spec"), "ports") : json();
    if (!ports.is_array() || ports.empty() || child(ports[0], "nodePort") != child(change.detail, "value")) {
        return {};
    }
    return as_recorded();
}

util::Result<void> node_port_undo(Session& session, Cluster& c, const Change& change, const json& object) {
    const std::string& ns = session.options().ns;
    const json& previous = child(change.detail, "previous");
    const json operations =
        json::array({{{"op", "replace"}, {"path", "/spec/ports/0/nodePort"}, {"value", previous}}});
    if (session.dry_run()) {
        session.plan({c.name,
                      "leave",
                      fmt::format("patch Service {}/{}: nodePort back to {}", ns, df::k_clustermesh_apiserver,
                                  previous.dump()),
                      operations,
                      {}});
        return {};
    }
    auto patched = guarded_patch(c, Kind::service, ns, std::string(df::k_clustermesh_apiserver),
                                 resource_version(object), operations);
    return patched ? util::Result<void>() : std::unexpected(patched.error());
}

std::string node_port_describe(const Change& change, std::string_view ns) {
    return fmt::format("nodePort {} of Service {}/{}", child(change.detail, "value").dump(), ns,
                       df::k_clustermesh_apiserver);
}

// cilium-cli: `cilium clustermesh enable` (id cilium-cli/enable) or `connect` (cilium-cli/connect/<peer>;
// leave fills in detail.destinationContext, the context that reaches the peer now).

bool is_enable(const Change& change) {
    return change.id == "cilium-cli/enable";
}

util::Result<void> cilium_cli_undo(Session& session, Cluster& c, const Change& change, const json&) {
    std::vector<std::string> args;
    if (is_enable(change)) {
        args = {"clustermesh", "disable", "--context", c.tool_context};
    } else {
        args = {"clustermesh",
                "disconnect",
                "--context",
                c.tool_context,
                "--destination-context",
                change.detail.value("destinationContext", detail(change, "destination"))};
    }
    return run_cilium(session, c, "leave", args);
}

std::string cilium_cli_describe(const Change& change, std::string_view) {
    return is_enable(change) ? std::string("cilium clustermesh enable")
                             : "cilium clustermesh connect to " + detail(change, "destination");
}

// helm: a `helm upgrade` of Cilium's release; undone by the values that take it back (the release's own
// values minus the peer, the previous NodePort, the apiserver off). tls.ca has no way back through values.

json helm_undo_values(const Cluster& c, const Change& change) {
    const std::string& id = change.id;
    if (id.starts_with("helm/cluster/")) {
        const std::string peer = detail(change, "cluster");
        json clusters =
            child(child(child(c.helm ? c.helm->values : json(), "clustermesh"), "config"), "clusters");
        if (clusters.is_object()) {
            clusters.erase(peer);
        } else if (clusters.is_array()) {
            json kept = json::array();
            for (const auto& entry : clusters) {
                if (text(entry, "name") != peer) {
                    kept.push_back(entry);
                }
            }
            clusters = kept;
        } else {
            return nullptr;
        }
        return {{"clustermesh", {{"config", {{"clusters", clusters}}}}}};
    }
    if (id == "helm/nodePort") {
        return {{"clustermesh",
                 {{"apiserver", {{"service", {{"nodePort", child(change.detail, "previous")}}}}}}}};
    }
    if (id == "helm/enable") {
        return {{"clustermesh", {{"useAPIServer", false}, {"config", {{"enabled", false}}}}}};
    }
    return nullptr;
}

util::Result<void> helm_undo(Session& session, Cluster& c, const Change& change, const json&) {
    const json values = helm_undo_values(c, change);
    if (values.is_null()) {
        session.say(
            fmt::format("{}: warning: {} ({}) cannot be taken back through Helm values; left as it is",
                        c.name, change.id, detail(change, "values")));
        return {};
    }
    return helm_upgrade(session, c, "leave", values, "undo " + change.id);
}

std::string helm_describe(const Change& change, std::string_view) {
    return fmt::format("Helm values {}", detail(change, "values"));
}

// kubeconfig: the cluster, user and context named detail.name in detail.file (kept with --keep-kubeconfig).

util::Result<void> kubeconfig_undo(Session& session, Cluster& c, const Change& change, const json&) {
    if (session.options().keep_kubeconfig) {
        return {};
    }
    if (session.dry_run()) {
        session.plan({c.name, "leave", "remove " + describe(change, session.options().ns), std::nullopt, {}});
        return {};
    }
    return remove_kubeconfig_entries(detail(change, "file"), detail(change, "name"));
}

std::string kubeconfig_describe(const Change& change, std::string_view) {
    return fmt::format("cluster, user and context \"{}\" from {}", detail(change, "name"),
                       detail(change, "file"));
}

// One row per kind of change.
constexpr std::array k_kinds = {
    Row{Action::create, "create", create_object, create_verify, create_undo, create_describe},
    Row{Action::secret_key, "secret-key", secret_key_object, secret_key_verify, secret_key_undo,
        secret_key_describe},
    Row{Action::host_alias, "host-alias", host_alias_object, host_alias_verify, host_alias_undo,
        host_alias_describe},
    Row{Action::replace_secret, "replace-secret", replace_secret_object, replace_secret_verify,
        replace_secret_undo, replace_secret_describe},
    Row{Action::node_port, "node-port", node_port_object, node_port_verify, node_port_undo,
        node_port_describe},
    Row{Action::cilium_cli, "cilium-cli", outside_the_api, always_recorded, cilium_cli_undo,
        cilium_cli_describe},
    Row{Action::helm, "helm", outside_the_api, always_recorded, helm_undo, helm_describe},
    Row{Action::kubeconfig, "kubeconfig", outside_the_api, always_recorded, kubeconfig_undo,
        kubeconfig_describe},
};

const Row* row_of(Action action) {
    for (const auto& row : k_kinds) {
        if (row.action == action) {
            return &row;
        }
    }
    return nullptr;
}

} // namespace

std::string_view action_name(Action action) {
    const Row* row = row_of(action);
    return row != nullptr ? row->name : std::string_view();
}

std::optional<Action> parse_action(std::string_view name) {
    for (const auto& row : k_kinds) {
        if (row.name == name) {
            return row.action;
        }
    }
    return std::nullopt;
}

std::string describe(const Change& change, std::string_view ns) {
    const Row* row = row_of(change.action);
    return row != nullptr ? row->describe(change, ns) : fmt::format("change {}", change.id);
}

Verdict verify(const Change& change, const std::optional<json>& object, std::string_view ns) {
    const Row* row = row_of(change.action);
    return row != nullptr ? row->verify(change, object, ns) : Verdict{};
}

util::Result<void> undo(Session& session, Cluster& c, const Change& change) {
    const Row* row = row_of(change.action);
    if (row == nullptr) {
        return util::fail(util::ErrorKind::invalid, fmt::format("{}: unknown journal action \"{}\" ({})",
                                                                c.name, change.unknown_action, change.id));
    }
    const std::string& ns = session.options().ns;
    const auto ref = row->object(change);
    if (!ref) {
        return row->undo(session, c, change, json());
    }
    auto current = c.api->get(ref->kind, ns, ref->name);
    if (!current) {
        return std::unexpected(current.error());
    }
    const Verdict verdict = row->verify(change, *current, ns);
    switch (verdict.holds) {
    case Holds::absent:
        return {};
    case Holds::changed:
        warn(session, c, verdict.why);
        return {};
    case Holds::as_recorded:
        break;
    }
    return row->undo(session, c, change, **current);
}

} // namespace meshlink::plugin::mesh
