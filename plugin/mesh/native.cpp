#include "plugin/mesh/native.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/changes.hpp"
#include "plugin/mesh/step_resolve.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

json managed_labels() {
    return {{std::string(df::k_managed_by_label), df::k_managed_by_meshlink}};
}

std::string alias_id(Kind kind, std::string_view name, const std::string& ip, const std::string& hostname) {
    return fmt::format("host-alias/{}/{}/{}/{}", plural(kind), name, ip, hostname);
}

} // namespace

std::string decoded_value(const json& data, const std::string& key, bool& present) {
    const std::string value = text(data, key);
    present = child(data, key).is_string();
    if (!present) {
        return {};
    }
    auto out = util::base64_decode(value);
    return out ? *out : std::string();
}

// A JSON patch guarded by the object's resourceVersion; a failed guard reads as a conflict (re-check, retry).
util::Result<json> guarded_patch(const Cluster& c, Kind kind, const std::string& ns, const std::string& name,
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
        const std::string existing = decoded_value(data, key, present);
        Change change;
        change.id = fmt::format("secret-key/{}/{}", secret, key);
        change.action = Action::secret_key;
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
            c.journal->intend(Change{id, Action::create, "applied", {peer}, {}});
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
                                               Action::create,
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
    for (const auto& change : changes) {
        if (change.action == Action::secret_key && verify(change, *written, ns).holds != Holds::as_recorded) {
            return util::fail(util::ErrorKind::conflict,
                              fmt::format("{}: {} data.{} did not take the new value", c.name, what,
                                          change.detail.value("key", "")));
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
        change.action = Action::host_alias;
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
    for (const auto& change : changes) {
        if (verify(change, *patched, ns).holds != Holds::as_recorded) {
            return util::fail(util::ErrorKind::conflict,
                              fmt::format("{}: {} did not keep the hostAliases", c.name, what));
        }
        c.journal->mark_applied(change.id);
    }
    return true;
}

} // namespace meshlink::plugin::mesh
