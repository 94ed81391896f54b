#include "plugin/mesh/native.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/steps.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

json managed_labels() {
    return {{std::string(df::k_managed_by_label), df::k_managed_by_meshlink}};
}

std::string decoded(const json& data, const std::string& key, bool& present) {
    const std::string value = text(data, key);
    present = child(data, key).is_string();
    if (!present) {
        return {};
    }
    auto out = util::base64_decode(value);
    return out ? *out : std::string();
}

// A JSON patch guarded by the object's resourceVersion; a failed guard reads as a conflict (re-check, retry).
util::Result<json> guarded_patch(Cluster& c, Kind kind, const std::string& ns, const std::string& name,
                                 const std::string& resource_version, json operations) {
    json patch =
        json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", resource_version}}});
    for (auto& op : operations) {
        patch.push_back(std::move(op));
    }
    auto patched = c.api->patch(kind, ns, name, kube::PatchType::json, patch);
    if (!patched && patched.error().kind == util::ErrorKind::invalid) {
        return util::fail(
            util::ErrorKind::conflict,
            fmt::format("{} {}/{} changed while meshlink was editing it", kind_name(kind), ns, name));
    }
    return patched;
}

json template_aliases(const json& object) {
    const json& aliases = child(child(child(child(object, "spec"), "template"), "spec"), "hostAliases");
    return aliases.is_array() ? aliases : json::array();
}

bool has_alias(const json& aliases, const std::string& ip, const std::string& hostname) {
    for (const auto& entry : aliases) {
        if (text(entry, "ip") == ip) {
            for (const auto& name : child(entry, "hostnames")) {
                if (name == hostname) {
                    return true;
                }
            }
        }
    }
    return false;
}

std::string alias_id(Kind kind, std::string_view name, const std::string& ip, const std::string& hostname) {
    return fmt::format("host-alias/{}/{}/{}/{}", plural(kind), name, ip, hostname);
}

} // namespace

util::Result<bool> ensure_secret_keys(Session& session, Cluster& c, std::string_view secret,
                                      const std::map<std::string, std::string>& values,
                                      const std::string& peer) {
    const std::string& ns = session.options().ns;
    const std::string what = fmt::format("Secret {}/{}", ns, secret);
    auto current = c.api->get(Kind::secret, ns, secret);
    if (!current) {
        return std::unexpected(current.error().with_context(c.context));
    }
    if (*current && helm_owned(**current)) {
        return util::fail(
            util::ErrorKind::invalid,
            fmt::format("{}: {} is Helm-owned; meshlink does not edit it (the next helm upgrade would undo "
                        "it). Run join with the cilium CLI or helm on PATH, or remove its Helm labels",
                        c.name, what));
    }
    const json data = *current ? child(**current, "data") : json::object();
    std::vector<Change> changes;
    json patch_data = json::object();
    std::map<std::string, std::string> backups;
    for (const auto& [key, value] : values) {
        bool present = false;
        const std::string existing = decoded(data, key, present);
        Change change;
        change.id = fmt::format("secret-key/{}/{}", secret, key);
        change.action = "secret-key";
        change.peers = {peer};
        change.detail = {
            {"secret", secret}, {"key", key}, {"sha256", sha256_hex(value)}, {"previous", "absent"}};
        if (present && existing == value) {
            if (auto recorded = c.journal->find(change.id)) {
                c.journal->intend(change);
                c.journal->mark_applied(change.id);
            }
            continue;
        }
        if (present) {
            const std::string backup_key = fmt::format("{}.{}", secret, key);
            backups[backup_key] = existing;
            change.detail["previous"] = "backup";
            change.detail["backup"] = backup_key;
        }
        patch_data[key] = util::base64_encode(value);
        changes.push_back(std::move(change));
    }
    if (*current) {
        const std::string id = fmt::format("secrets/{}", secret);
        if (c.journal->find(id)) {
            c.journal->intend(Change{id, "create", "applied", {peer}, {}});
        }
    }
    if (changes.empty()) {
        return false;
    }
    json object;
    if (!*current) {
        object = {{"apiVersion", "v1"},
                  {"kind", "Secret"},
                  {"metadata", {{"name", secret}, {"namespace", ns}, {"labels", managed_labels()}}},
                  {"type", "Opaque"},
                  {"data", patch_data}};
        changes.insert(changes.begin(), Change{fmt::format("secrets/{}", secret),
                                               "create",
                                               "pending",
                                               {peer},
                                               {{"kind", "Secret"}, {"name", secret}, {"namespace", ns}}});
    }
    if (session.dry_run()) {
        std::vector<std::string> keys;
        for (const auto& [key, value] : patch_data.items()) {
            keys.push_back(key);
        }
        session.plan({c.name,
                      "connect",
                      fmt::format("{} {}: {}", *current ? "patch" : "create", what,
                                  fmt::format("keys {}", json(keys).dump())),
                      redact_object(*current ? json{{"kind", "Secret"}, {"data", patch_data}} : object),
                      {}});
        return true;
    }
    if (auto saved = c.journal->backup(backups); !saved) {
        return std::unexpected(saved.error().with_context(c.context));
    }
    for (const auto& change : changes) {
        c.journal->intend(change, true);
    }
    if (auto flushed = c.journal->flush(); !flushed) {
        return std::unexpected(flushed.error());
    }
    util::Result<json> written;
    if (!*current) {
        written = c.api->create(Kind::secret, ns, object);
        if (!written && written.error().kind == util::ErrorKind::already_exists) {
            return util::fail(util::ErrorKind::conflict, what + " appeared meanwhile");
        }
    } else {
        const json patch = {
            {"metadata", {{"resourceVersion", text(child(**current, "metadata"), "resourceVersion")}}},
            {"data", patch_data}};
        written = c.api->patch(Kind::secret, ns, secret, kube::PatchType::merge, patch);
    }
    if (!written) {
        return std::unexpected(written.error().with_context(fmt::format("{}: writing {}", c.context, what)));
    }
    // Verify: the answer holds every value.
    for (const auto& [key, value] : values) {
        bool present = false;
        if (decoded(child(*written, "data"), key, present) != value) {
            return util::fail(util::ErrorKind::conflict,
                              fmt::format("{}: {} data.{} did not take the new value", c.name, what, key));
        }
    }
    for (const auto& change : changes) {
        c.journal->mark_applied(change.id);
    }
    return true;
}

util::Result<bool> host_aliases_missing(Session& session, Cluster& c, Kind kind, std::string_view name,
                                        const std::vector<std::string>& ips, const std::string& hostname) {
    auto current = c.api->get(kind, session.options().ns, name);
    if (!current) {
        return std::unexpected(current.error().with_context(c.context));
    }
    if (!*current) {
        return false;
    }
    const json aliases = template_aliases(**current);
    return std::any_of(ips.begin(), ips.end(),
                       [&](const auto& ip) { return !has_alias(aliases, ip, hostname); });
}

util::Result<bool> ensure_host_aliases(Session& session, Cluster& c, Kind kind, std::string_view name,
                                       const std::vector<std::string>& ips, const std::string& hostname,
                                       const std::string& peer) {
    const std::string& ns = session.options().ns;
    const std::string what = fmt::format("{} {}/{}", kind_name(kind), ns, name);
    auto current = c.api->get(kind, ns, name);
    if (!current) {
        return std::unexpected(current.error().with_context(c.context));
    }
    if (!*current) {
        return util::fail(util::ErrorKind::not_found, fmt::format("{}: {} not found", c.name, what));
    }
    if (helm_owned(**current)) {
        return util::fail(
            util::ErrorKind::invalid,
            fmt::format("{}: {} is Helm-owned; meshlink does not add hostAliases to it (the next helm "
                        "upgrade would drop them). Run join with the cilium CLI or helm on PATH",
                        c.name, what));
    }
    const json& spec = child(child(child(**current, "spec"), "template"), "spec");
    const bool field_present = child(spec, "hostAliases").is_array();
    json aliases = template_aliases(**current);
    std::vector<Change> changes;
    for (const auto& ip : ips) {
        Change change;
        change.id = alias_id(kind, name, ip, hostname);
        change.action = "host-alias";
        change.peers = {peer};
        if (has_alias(aliases, ip, hostname)) {
            if (c.journal->find(change.id)) {
                c.journal->intend(change);
                c.journal->mark_applied(change.id);
            }
            continue;
        }
        bool entry_created = true;
        for (auto& entry : aliases) {
            if (text(entry, "ip") == ip) {
                entry["hostnames"].push_back(hostname);
                entry_created = false;
            }
        }
        if (entry_created) {
            aliases.push_back({{"ip", ip}, {"hostnames", json::array({hostname})}});
        }
        change.detail = {{"kind", kind_name(kind)},
                         {"name", name},
                         {"ip", ip},
                         {"hostname", hostname},
                         {"entryCreated", entry_created},
                         {"fieldCreated", !field_present}};
        changes.push_back(std::move(change));
    }
    if (changes.empty()) {
        return false;
    }
    const json operations =
        json::array({{{"op", "add"}, {"path", "/spec/template/spec/hostAliases"}, {"value", aliases}}});
    if (session.dry_run()) {
        session.plan({c.name,
                      "connect",
                      fmt::format("patch {}: hostAliases += {} -> {} (restarts its pods)", what, hostname,
                                  json(ips).dump()),
                      operations,
                      {}});
        return true;
    }
    for (const auto& change : changes) {
        c.journal->intend(change, true);
    }
    if (auto flushed = c.journal->flush(); !flushed) {
        return std::unexpected(flushed.error());
    }
    auto patched = guarded_patch(c, kind, ns, std::string(name),
                                 text(child(**current, "metadata"), "resourceVersion"), operations);
    if (!patched) {
        return std::unexpected(patched.error().with_context(fmt::format("{}: patching {}", c.context, what)));
    }
    const json written = template_aliases(*patched);
    for (const auto& change : changes) {
        if (!has_alias(written, change.detail["ip"].get<std::string>(), hostname)) {
            return util::fail(util::ErrorKind::conflict,
                              fmt::format("{}: {} did not keep the hostAliases", c.name, what));
        }
        c.journal->mark_applied(change.id);
    }
    return true;
}

util::Result<void> undo_native(Session& session, Cluster& c, const Change& change) {
    const std::string& ns = session.options().ns;
    const json& d = change.detail;
    auto warn = [&](const std::string& message) {
        session.say(fmt::format("{}: warning: {}; left as it is", c.name, message));
        return util::Result<void>();
    };
    if (change.action == "secret-key") {
        const std::string secret = d.value("secret", "");
        const std::string key = d.value("key", "");
        auto current = c.api->get(Kind::secret, ns, secret);
        if (!current) {
            return std::unexpected(current.error());
        }
        bool present = false;
        const std::string value = *current ? decoded(child(**current, "data"), key, present) : std::string();
        if (!present) {
            return {};
        }
        if (sha256_hex(value) != d.value("sha256", "")) {
            return warn(fmt::format("Secret {}/{} data.{} was changed after join", ns, secret, key));
        }
        json restored = nullptr;
        const std::string backup_key = d.value("backup", "");
        if (d.value("previous", "") == "backup") {
            auto values = c.journal->restore({backup_key});
            if (!values) {
                return std::unexpected(values.error());
            }
            if (!values->contains(backup_key)) {
                return warn(fmt::format("the previous value of Secret {}/{} data.{} is not in the backup", ns,
                                        secret, key));
            }
            restored = util::base64_encode(values->at(backup_key));
        }
        if (session.dry_run()) {
            session.plan({c.name,
                          "leave",
                          fmt::format("{} Secret {}/{} data.{}", restored.is_null() ? "remove" : "restore",
                                      ns, secret, key),
                          std::nullopt,
                          {}});
            return {};
        }
        const json patch = {
            {"metadata", {{"resourceVersion", text(child(**current, "metadata"), "resourceVersion")}}},
            {"data", {{key, restored}}}};
        auto patched = c.api->patch(Kind::secret, ns, secret, kube::PatchType::merge, patch);
        if (!patched) {
            return std::unexpected(patched.error());
        }
        if (!backup_key.empty()) {
            return c.journal->drop_backup({backup_key});
        }
        return {};
    }
    if (change.action == "create") {
        const std::string kind_text = d.value("kind", "");
        const std::string name = d.value("name", "");
        const Kind kind = kind_text == "Service"         ? Kind::service
                          : kind_text == "EndpointSlice" ? Kind::endpoint_slice
                                                         : Kind::secret;
        auto current = c.api->get(kind, ns, name);
        if (!current) {
            return std::unexpected(current.error());
        }
        if (!*current) {
            return {};
        }
        if (label(**current, df::k_managed_by_label) != df::k_managed_by_meshlink) {
            return warn(fmt::format("{} {}/{} no longer carries meshlink's label", kind_text, ns, name));
        }
        if (kind == Kind::secret && !child(**current, "data").empty()) {
            return warn(fmt::format("Secret {}/{} holds keys meshlink did not write", ns, name));
        }
        if (session.dry_run()) {
            session.plan(
                {c.name, "leave", fmt::format("delete {} {}/{}", kind_text, ns, name), std::nullopt, {}});
            return {};
        }
        return c.api->remove(kind, ns, name, text(child(**current, "metadata"), "resourceVersion"));
    }
    if (change.action == "host-alias") {
        const Kind kind = d.value("kind", "") == "Deployment" ? Kind::deployment : Kind::daemon_set;
        const std::string name = d.value("name", "");
        const std::string ip = d.value("ip", "");
        const std::string hostname = d.value("hostname", "");
        auto current = c.api->get(kind, ns, name);
        if (!current) {
            return std::unexpected(current.error());
        }
        if (!*current || !has_alias(template_aliases(**current), ip, hostname)) {
            return {};
        }
        json aliases = json::array();
        for (auto entry : template_aliases(**current)) {
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
            aliases.empty() && d.value("fieldCreated", false)
                ? json::array({{{"op", "remove"}, {"path", "/spec/template/spec/hostAliases"}}})
                : json::array(
                      {{{"op", "add"}, {"path", "/spec/template/spec/hostAliases"}, {"value", aliases}}});
        if (session.dry_run()) {
            session.plan(
                {c.name,
                 "leave",
                 fmt::format("patch {} {}/{}: hostAliases -= {} {}", kind_name(kind), ns, name, ip, hostname),
                 operations,
                 {}});
            return {};
        }
        auto patched = guarded_patch(c, kind, ns, name, text(child(**current, "metadata"), "resourceVersion"),
                                     operations);
        return patched ? util::Result<void>() : std::unexpected(patched.error());
    }
    if (change.action == "replace-secret") {
        const std::string name = d.value("name", "");
        auto current = c.api->get(Kind::secret, ns, name);
        if (!current) {
            return std::unexpected(current.error());
        }
        if (!*current) {
            return {};
        }
        bool present = false;
        const std::string ca =
            decoded(child(**current, "data"), std::string(df::k_cilium_ca_cert_key), present);
        if (!present || sha256_hex(ca) != d.value("sha256", "")) {
            return warn(fmt::format("Secret {}/{} was changed after join", ns, name));
        }
        if (session.dry_run()) {
            session.plan({c.name, "leave", fmt::format("restore Secret {}/{}", ns, name), std::nullopt, {}});
            return {};
        }
        if (!d.value("existed", true)) {
            return c.api->remove(Kind::secret, ns, name,
                                 text(child(**current, "metadata"), "resourceVersion"));
        }
        const std::vector<std::string> keys = d.value("backup", std::vector<std::string>());
        auto values = c.journal->restore(keys);
        if (!values) {
            return std::unexpected(values.error());
        }
        json data = json::object();
        for (const auto& [key, value] : *values) {
            data[key.substr(key.find('.') + 1)] = util::base64_encode(value);
        }
        if (data.empty()) {
            return warn(fmt::format("the previous content of Secret {}/{} is not in the backup", ns, name));
        }
        json object = **current;
        object["data"] = data;
        auto updated = c.api->update(Kind::secret, ns, object);
        if (!updated) {
            return std::unexpected(updated.error());
        }
        return c.journal->drop_backup(keys);
    }
    if (change.action == "node-port") {
        auto current = c.api->get(Kind::service, ns, df::k_clustermesh_apiserver);
        if (!current) {
            return std::unexpected(current.error());
        }
        const json& ports = *current ? child(child(**current, "spec"), "ports") : json();
        if (!ports.is_array() || ports.empty() || child(ports[0], "nodePort") != d["value"]) {
            return {};
        }
        const json operations =
            json::array({{{"op", "replace"}, {"path", "/spec/ports/0/nodePort"}, {"value", d["previous"]}}});
        if (session.dry_run()) {
            session.plan({c.name,
                          "leave",
                          fmt::format("patch Service {}/{}: nodePort back to {}", ns,
                                      df::k_clustermesh_apiserver, d["previous"].dump()),
                          operations,
                          {}});
            return {};
        }
        auto patched = guarded_patch(c, Kind::service, ns, std::string(df::k_clustermesh_apiserver),
                                     text(child(**current, "metadata"), "resourceVersion"), operations);
        return patched ? util::Result<void>() : std::unexpected(patched.error());
    }
    return util::fail(util::ErrorKind::invalid, fmt::format("{}: unknown journal action \"{}\" ({})", c.name,
                                                            change.action, change.id));
}

} // namespace meshlink::plugin::mesh
