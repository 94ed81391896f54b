// Step 4: one CA for the mesh where that is still cheap (before a clustermesh-apiserver issued certificates
// from another), per-peer client certificates where it is not (docs/cilium-clustermesh.md, "Different CAs").
#include "plugin/mesh/step_ca.hpp"

#include "kube/pki.hpp"
#include "plugin/defaults.hpp"
#include "plugin/mesh/tools.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::mesh {
namespace {

namespace df = defaults;

bool same_ca(const Cluster& a, const Cluster& b) {
    const auto ca = a.ca.data.find(std::string(df::k_cilium_ca_cert_key));
    const auto cb = b.ca.data.find(std::string(df::k_cilium_ca_cert_key));
    if (ca == a.ca.data.end() || cb == b.ca.data.end()) {
        return false;
    }
    if (ca->second == cb->second) {
        return true;
    }
    auto ia = kube::pki::parse_certificate(ca->second);
    auto ib = kube::pki::parse_certificate(cb->second);
    return ia && ib && !ia->subject_key_id.empty() && ia->subject_key_id == ib->subject_key_id;
}

// Copies `from`'s cilium-ca into `to` natively: the previous content goes to the journal's backup Secret
// first.
util::Result<void> copy_native(Session& session, const Cluster& from, Cluster& to,
                               const std::vector<std::string>& peers) {
    const std::string& ns = session.options().ns;
    const std::string what = fmt::format("Secret {}/{}", ns, df::k_cilium_ca_secret);
    const std::string id = fmt::format("secrets/{}/ca", df::k_cilium_ca_secret);
    json data = json::object();
    for (const auto& key : {std::string(df::k_cilium_ca_cert_key), std::string(df::k_cilium_ca_key_key)}) {
        auto it = from.ca.data.find(key);
        if (it == from.ca.data.end()) {
            return util::fail(util::ErrorKind::not_found,
                              fmt::format("{}: {} has no {}: cannot share it", from.name, what, key));
        }
        data[key] = util::base64_encode(it->second);
    }
    Change change;
    change.id = id;
    change.action = Action::replace_secret;
    change.peers = {peers.begin(), peers.end()};
    std::vector<std::string> backup_keys;
    for (const auto& [key, value] : to.ca.data) {
        backup_keys.push_back(fmt::format("{}.{}", df::k_cilium_ca_secret, key));
    }
    change.detail = {{"kind", "Secret"},
                     {"name", df::k_cilium_ca_secret},
                     {"existed", to.ca.exists},
                     {"backup", backup_keys},
                     {"from", from.name},
                     {"sha256", sha256_hex(from.ca.data.at(std::string(df::k_cilium_ca_cert_key)))}};
    if (session.dry_run()) {
        json object = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", {{"name", df::k_cilium_ca_secret}, {"namespace", ns}}},
                       {"type", "Opaque"},
                       {"data", data}};
        session.plan({to.name,
                      "ca",
                      fmt::format("{} {} with {}'s CA", to.ca.exists ? "replace" : "create", what, from.name),
                      redact_object(object),
                      {}});
        return {};
    }
    if (to.ca.exists) {
        std::map<std::string, std::string> previous;
        for (const auto& [key, value] : to.ca.data) {
            previous[fmt::format("{}.{}", df::k_cilium_ca_secret, key)] = value;
        }
        if (auto saved = to.journal->backup(previous); !saved) {
            return std::unexpected(saved.error().with_context(to.context));
        }
    }
    to.journal->intend(change);
    if (auto flushed = to.journal->flush(); !flushed) {
        return std::unexpected(flushed.error());
    }
    util::Result<json> written;
    if (to.ca.exists) {
        written =
            to.api->patch(Kind::secret, ns, df::k_cilium_ca_secret, kube::PatchType::merge, {{"data", data}});
    } else {
        json object = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata",
                        {{"name", df::k_cilium_ca_secret},
                         {"namespace", ns},
                         {"labels", {{std::string(df::k_managed_by_label), df::k_managed_by_meshlink}}}}},
                       {"type", "Opaque"},
                       {"data", data}};
        written = to.api->create(Kind::secret, ns, object);
    }
    if (!written) {
        return std::unexpected(written.error().with_context(fmt::format("{}: writing {}", to.context, what)));
    }
    to.journal->mark_applied(id);
    return {};
}

// Decides, per cluster, between the shared CA and per-peer certificates, and copies the CA where it shares
// it.
util::Result<void> share(Session& session, std::vector<Cluster*>& clusters) {
    Cluster* reference = clusters.front();
    // A pair where only the local side already serves: the peer's CA is the one to keep.
    if (clusters.size() == 2 && !reference->apiserver.deployed && clusters[1]->apiserver.deployed &&
        clusters[1]->ca.exists) {
        reference = clusters[1];
    }
    for (Cluster* c : clusters) {
        if (c == reference) {
            continue;
        }
        const std::vector<std::string> peers = other_names(clusters, c);
        const auto recorded = c->journal->find(fmt::format("secrets/{}/ca", df::k_cilium_ca_secret));
        if (same_ca(*c, *reference)) {
            c->ca_note = fmt::format("shares the CA of {}", reference->name);
            if (recorded) {
                c->journal->intend(Change{recorded->id,
                                          recorded->action,
                                          recorded->state,
                                          {peers.begin(), peers.end()},
                                          recorded->detail});
            }
        } else if (!reference->ca.exists) {
            c->ca_note = fmt::format("{} has no cilium-ca yet: connecting with per-peer certificates",
                                     reference->name);
        } else if (c->apiserver.deployed) {
            c->ca_note = fmt::format(
                "its clustermesh-apiserver already serves with another CA than {}: connecting with "
                "per-peer client certificates (nothing re-issued)",
                reference->name);
        } else if (c->ca.helm_owned) {
            if (c->driver == Driver::native) {
                return util::fail(
                    util::ErrorKind::invalid,
                    fmt::format("{}: Secret cilium-ca is Helm-owned but no Helm release of Cilium exists; "
                                "copy {}'s cilium-ca yourself or remove the Helm labels, then run join again",
                                c->name, reference->name));
            }
            // Helm renders cilium-ca: the chart's tls.ca values are the way to give it another one.
            const json values = {
                {"tls",
                 {{"ca",
                   {{"cert",
                     util::base64_encode(reference->ca.data.at(std::string(df::k_cilium_ca_cert_key)))},
                    {"key",
                     util::base64_encode(reference->ca.data.at(std::string(df::k_cilium_ca_key_key)))}}}}}};
            Change change{"helm/tls.ca",
                          Action::helm,
                          "pending",
                          {peers.begin(), peers.end()},
                          {{"values", "tls.ca"}, {"from", reference->name}}};
            c->journal->intend(change);
            if (auto flushed = c->journal->flush(); !flushed) {
                return std::unexpected(flushed.error());
            }
            if (auto upgraded =
                    helm_upgrade(session, *c, "ca", values, "tls.ca.cert/key of " + reference->name);
                !upgraded) {
                return upgraded;
            }
            c->journal->mark_applied(change.id);
            c->ca_note = fmt::format(
                "gets {}'s CA through Helm values tls.ca before its clustermesh-apiserver is enabled",
                reference->name);
        } else {
            auto copied = with_retries(session, c->name + ": sharing the CA",
                                       [&] { return copy_native(session, *reference, *c, peers); });
            if (!copied) {
                return copied;
            }
            c->ca_note = fmt::format("got {}'s cilium-ca before its clustermesh-apiserver is enabled",
                                     reference->name);
            c->ca = reference->ca;
        }
        session.say(fmt::format("{}: CA: {}", c->name, c->ca_note));
    }
    for (Cluster* c : clusters) {
        for (Cluster* other : others(clusters, c)) {
            c->journal->set_step(other->name, "ca", other->tool_context);
        }
        if (auto flushed = c->journal->flush(); !flushed) {
            return std::unexpected(flushed.error());
        }
    }
    return {};
}

} // namespace

util::Result<void> step_ca(Session& session, std::vector<Cluster*>& clusters) {
    return with_retries(session, "ca", [&] { return share(session, clusters); });
}

} // namespace meshlink::plugin::mesh
