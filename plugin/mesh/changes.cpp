// The journal's change kinds: one row each (k_kinds at the end of this file).
#include "plugin/mesh/changes.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/native.hpp"
#include "plugin/mesh/session.hpp"
#include "plugin/mesh/tools.hpp"
#include "util/base64.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <initializer_list>

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
    // Why a change read from a cluster is not one the steps record ("" when it is): the journal is data
    // anyone with write access to the ConfigMap could have planted, so only meshlink's own objects and
    // names pass.
    std::string (*invalid)(const Change& change);
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

// What a journal entry may name. The steps only ever record fixed objects in the session's namespace and
// names derived from Cilium cluster names, so anything else is refused.

// A Secret data key (Kubernetes: [-._a-zA-Z0-9]+, at most 253, not "." or "..").
bool secret_data_key(std::string_view key) {
    return !key.empty() && key.size() <= 253 && key != "." && key != ".." &&
           std::all_of(key.begin(), key.end(), [](unsigned char ch) {
               return std::isalnum(ch) != 0 || ch == '-' || ch == '.' || ch == '_';
           });
}

bool sha256_digest(const json& value) {
    if (!value.is_string()) {
        return false;
    }
    const auto& digest = value.get_ref<const std::string&>();
    return digest.size() == 64 && std::all_of(digest.begin(), digest.end(), [](char ch) {
               return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
           });
}

bool ip_address(std::string_view text) {
    unsigned char buffer[sizeof(in6_addr)];
    const std::string copy(text);
    return ::inet_pton(AF_INET, copy.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

bool port_number(const json& value) {
    return value.is_number_integer() && value.get<long long>() >= 1 && value.get<long long>() <= 65535;
}

// "" when `value` is a string in `allowed`, else the reason.
std::string one_of(const Change& change, const char* key, std::initializer_list<std::string_view> allowed) {
    const json& value = child(change.detail, key);
    if (value.is_string() &&
        std::find(allowed.begin(), allowed.end(), value.get<std::string>()) != allowed.end()) {
        return {};
    }
    return fmt::format("detail.{} is not one of the objects meshlink writes", key);
}

std::string id_matches(const Change& change, const std::string& expected) {
    return change.id == expected ? std::string() : "its id does not match what it names";
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

std::string create_invalid(const Change& change) {
    const std::string kind = detail(change, "kind");
    std::string why =
        kind == "Secret"
            ? one_of(change, "name", {df::k_cilium_clustermesh_secret, df::k_cilium_kvstoremesh_secret})
        : kind == "Service" || kind == "EndpointSlice"
            ? one_of(change, "name", {df::k_mesh_apiserver_service})
            : "detail.kind is not a kind meshlink creates";
    if (!why.empty()) {
        return why;
    }
    return id_matches(change, fmt::format("{}/{}",
                                          kind == "Secret"    ? "secrets"
                                          : kind == "Service" ? "services"
                                                              : "endpointslices",
                                          detail(change, "name")));
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

std::string secret_key_invalid(const Change& change) {
    if (auto why =
            one_of(change, "secret", {df::k_cilium_clustermesh_secret, df::k_cilium_kvstoremesh_secret});
        !why.empty()) {
        return why;
    }
    const std::string secret = detail(change, "secret");
    const std::string key = detail(change, "key");
    if (!secret_data_key(key)) {
        return "detail.key is not a Secret data key";
    }
    if (!sha256_digest(child(change.detail, "sha256"))) {
        return "detail.sha256 is not a SHA-256 digest";
    }
    const std::string previous = detail(change, "previous");
    if (previous != "absent" && previous != "backup") {
        return "detail.previous is neither \"absent\" nor \"backup\"";
    }
    if (previous == "backup" && detail(change, "backup") != fmt::format("{}.{}", secret, key)) {
        return "detail.backup does not name this key's backup";
    }
    return id_matches(change, fmt::format("secret-key/{}/{}", secret, key));
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

std::string host_alias_invalid(const Change& change) {
    const std::string kind = detail(change, "kind");
    const std::string name = detail(change, "name");
    if (!((kind == "DaemonSet" && name == df::k_cilium_daemonset) ||
          (kind == "Deployment" && name == df::k_clustermesh_apiserver))) {
        return "detail.kind and detail.name are not a workload meshlink adds hostAliases to";
    }
    if (!ip_address(detail(change, "ip"))) {
        return "detail.ip is not an IP address";
    }
    const std::string hostname = detail(change, "hostname");
    const std::string suffix = fmt::format(".{}", df::k_clustermesh_domain);
    if (!hostname.ends_with(suffix) || !cluster_name(hostname.substr(0, hostname.size() - suffix.size()))) {
        return fmt::format("detail.hostname is not <cluster>{}", suffix);
    }
    if (change.detail.contains("fieldCreated") && !change.detail["fieldCreated"].is_boolean()) {
        return "detail.fieldCreated is not a boolean";
    }
    return id_matches(change, fmt::format("host-alias/{}/{}/{}/{}",
                                          kind == "DaemonSet" ? "daemonsets" : "deployments", name,
                                          detail(change, "ip"), hostname));
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

std::string replace_secret_invalid(const Change& change) {
    if (auto why = one_of(change, "name", {df::k_cilium_ca_secret}); !why.empty()) {
        return why;
    }
    const json& backup = child(change.detail, "backup");
    if (!backup.is_null() && !backup.is_array()) {
        return "detail.backup is not a list";
    }
    const std::string prefix = fmt::format("{}.", df::k_cilium_ca_secret);
    for (const auto& key : backup) {
        if (!key.is_string() || !key.get<std::string>().starts_with(prefix) ||
            !secret_data_key(key.get<std::string>().substr(prefix.size()))) {
            return fmt::format("detail.backup holds a key that is not {}<key>", prefix);
        }
    }
    if (!sha256_digest(child(change.detail, "sha256"))) {
        return "detail.sha256 is not a SHA-256 digest";
    }
    if (change.detail.contains("existed") && !change.detail["existed"].is_boolean()) {
        return "detail.existed is not a boolean";
    }
    return id_matches(change, fmt::format("secrets/{}/ca", df::k_cilium_ca_secret));
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

std::string node_port_invalid(const Change& change) {
    if (!port_number(child(change.detail, "value"))) {
        return "detail.value is not a port";
    }
    if (!child(change.detail, "previous").is_null() && !port_number(child(change.detail, "previous"))) {
        return "detail.previous is not a port";
    }
    return id_matches(change, fmt::format("services/{}/nodePort", df::k_clustermesh_apiserver));
}

std::string node_port_describe(const Change& change, std::string_view ns) {
    return fmt::format("nodePort {} of Service {}/{}", child(change.detail, "value").dump(), ns,
                       df::k_clustermesh_apiserver);
}

// cilium-cli: `cilium clustermesh enable` (id cilium-cli/enable) or `connect` (cilium-cli/connect/<peer>).

bool is_enable(const Change& change) {
    return change.id == "cilium-cli/enable";
}

// Leave fills in detail.destinationContext and, for a peer from --peer-kubeconfig,
// detail.destinationKubeconfig from its own run (plugin/mesh/leave.cpp), never from the journal.
util::Result<void> cilium_cli_undo(Session& session, Cluster& c, const Change& change, const json&) {
    if (is_enable(change)) {
        return run_cilium(session, c, "leave", {"clustermesh", "disable", "--context", c.tool_context});
    }
    const std::string destination_kubeconfig = detail(change, "destinationKubeconfig");
    return run_cilium(session, c, "leave",
                      {"clustermesh", "disconnect", "--context", c.tool_context, "--destination-context",
                       change.detail.value("destinationContext", detail(change, "destination"))},
                      destination_kubeconfig.empty() ? std::nullopt : std::optional(destination_kubeconfig));
}

std::string cilium_cli_invalid(const Change& change) {
    if (is_enable(change)) {
        return {};
    }
    const std::string destination = detail(change, "destination");
    if (!cluster_name(destination)) {
        return "detail.destination is not a cluster name";
    }
    return id_matches(change, "cilium-cli/connect/" + destination);
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

std::string helm_invalid(const Change& change) {
    if (change.id == "helm/enable" || change.id == "helm/tls.ca") {
        return {};
    }
    if (change.id == "helm/nodePort") {
        const json& previous = child(change.detail, "previous");
        return previous.is_null() || port_number(previous) ? std::string() : "detail.previous is not a port";
    }
    const std::string cluster = detail(change, "cluster");
    if (!cluster_name(cluster)) {
        return "detail.cluster is not a cluster name";
    }
    return id_matches(change, "helm/cluster/" + cluster);
}

// kubeconfig: entries in the user's kubeconfig, as older meshlink releases recorded them in the cluster.
// What join writes now is recorded on the operator's machine (kubeconfig_record.hpp): a cluster must neither
// learn the operator's paths nor tell leave which local files to edit. An entry of an older meshlink, or a
// planted one, is never acted on.
std::string kubeconfig_invalid(const Change&) {
    return "kubeconfig entries are recorded on the operator's machine, never taken from a cluster";
}

util::Result<void> kubeconfig_undo(Session&, Cluster& c, const Change& change, const json&) {
    return util::fail(util::ErrorKind::invalid,
                      fmt::format("{}: {}: {}", c.name, change.id, kubeconfig_invalid(change)));
}

std::string kubeconfig_describe(const Change& change, std::string_view) {
    return fmt::format("cluster, user and context \"{}\" from {}", detail(change, "name"),
                       detail(change, "file"));
}

// One row per kind of change.
constexpr std::array k_kinds = {
    Row{Action::create, "create", create_object, create_verify, create_undo, create_describe, create_invalid},
    Row{Action::secret_key, "secret-key", secret_key_object, secret_key_verify, secret_key_undo,
        secret_key_describe, secret_key_invalid},
    Row{Action::host_alias, "host-alias", host_alias_object, host_alias_verify, host_alias_undo,
        host_alias_describe, host_alias_invalid},
    Row{Action::replace_secret, "replace-secret", replace_secret_object, replace_secret_verify,
        replace_secret_undo, replace_secret_describe, replace_secret_invalid},
    Row{Action::node_port, "node-port", node_port_object, node_port_verify, node_port_undo,
        node_port_describe, node_port_invalid},
    Row{Action::cilium_cli, "cilium-cli", outside_the_api, always_recorded, cilium_cli_undo,
        cilium_cli_describe, cilium_cli_invalid},
    Row{Action::helm, "helm", outside_the_api, always_recorded, helm_undo, helm_describe, helm_invalid},
    Row{Action::kubeconfig, "kubeconfig", outside_the_api, always_recorded, kubeconfig_undo,
        kubeconfig_describe, kubeconfig_invalid},
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

bool cluster_name(std::string_view name) {
    return !name.empty() && name.size() <= 63 &&
           std::isalnum(static_cast<unsigned char>(name.front())) != 0 &&
           std::isalnum(static_cast<unsigned char>(name.back())) != 0 &&
           std::all_of(name.begin(), name.end(), [](unsigned char ch) {
               return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
           });
}

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

std::string invalid_change(const Change& change) {
    const Row* row = row_of(change.action);
    if (row == nullptr) {
        return fmt::format("unknown action \"{}\"", change.unknown_action);
    }
    if (change.state != "pending" && change.state != "applied") {
        return "its state is neither pending nor applied";
    }
    for (const auto& peer : change.peers) {
        if (!cluster_name(peer)) {
            return "a peer is not a cluster name";
        }
    }
    return row->invalid(change);
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
