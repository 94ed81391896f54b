#include "plugin/mesh/journal.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/changes.hpp"
#include "util/base64.hpp"
#include "util/digest.hpp"
#include "util/json_text.hpp"
#include "util/time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

namespace meshlink::plugin::mesh {

namespace df = defaults;

std::string sha256_hex(std::string_view data) {
    return util::to_hex(util::sha256(data));
}

namespace {

json change_json(const Change& change) {
    if (!change.rejected.empty()) {
        return change.raw;
    }
    const std::string action =
        change.action == Action::unknown ? change.unknown_action : std::string(action_name(change.action));
    return {{"id", change.id},
            {"action", action},
            {"state", change.state},
            {"peers", change.peers},
            {"detail", change.detail}};
}

json peer_json(const PeerRecord& peer) {
    return {
        {"state", peer.state}, {"context", peer.context}, {"steps", peer.steps}, {"updated", peer.updated}};
}

// One stored entry; an entry that is not one meshlink writes comes back rejected, with the reason.
Change change_from_json(const json& item) {
    Change change;
    change.raw = item;
    try {
        if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
            change.rejected = "not an object with a string id";
            return change;
        }
        change.id = item["id"].get<std::string>();
        const std::string action = item.value("action", "");
        if (auto known = parse_action(action)) {
            change.action = *known;
        } else {
            change.unknown_action = action;
        }
        change.state = item.value("state", "pending");
        change.peers = item.value("peers", std::set<std::string>());
        change.detail = item.value("detail", json::object());
        if (!change.detail.is_object()) {
            change.rejected = "its detail is not an object";
            return change;
        }
    } catch (const json::exception& error) {
        change.rejected = std::string("malformed: ") + error.what();
        return change;
    }
    change.rejected = invalid_change(change);
    return change;
}

bool same_change(const Change& a, const Change& b) {
    return change_json(a) == change_json(b) && a.rejected == b.rejected;
}

bool same_peer(const PeerRecord& a, const PeerRecord& b) {
    return peer_json(a) == peer_json(b);
}

const Change* find_valid(const std::vector<Change>& changes, const std::string& id) {
    for (const auto& change : changes) {
        if (change.rejected.empty() && change.id == id) {
            return &change;
        }
    }
    return nullptr;
}

} // namespace

json to_json(const JournalDoc& doc) {
    json peers = doc.rejected_peers;
    for (const auto& [name, peer] : doc.peers) {
        peers[name] = peer_json(peer);
    }
    json changes = json::array();
    for (const auto& change : doc.changes) {
        changes.push_back(change_json(change));
    }
    return {{"format", k_journal_format}, {"cluster", doc.cluster}, {"peers", peers}, {"changes", changes}};
}

util::Result<JournalDoc> journal_from_json(const json& document) {
    try {
        if (!document.is_object() || document.value("format", 0) != k_journal_format) {
            return util::fail(
                util::ErrorKind::parse,
                fmt::format("unknown journal format {} (this meshlink reads format {}); use the "
                            "meshlink release that wrote it",
                            document.is_object() ? document.value("format", 0) : 0, k_journal_format));
        }
        JournalDoc doc;
        doc.cluster = document.value("cluster", "");
        const json peers = document.value("peers", json::object());
        const json changes = document.value("changes", json::array());
        if (!peers.is_object() || !changes.is_array()) {
            return util::fail(util::ErrorKind::parse, "malformed journal: peers is not an object or changes "
                                                      "is not a list");
        }
        for (const auto& [name, peer] : peers.items()) {
            const std::string state = peer.is_object() ? peer.value("state", "") : std::string();
            if (!cluster_name(name) || !peer.is_object() ||
                (state != "joining" && state != "joined" && !state.empty())) {
                doc.rejected_peers[name] = peer;
                continue;
            }
            PeerRecord record;
            record.state = peer.value("state", "");
            record.context = peer.value("context", "");
            record.steps = peer.value("steps", std::map<std::string, std::string>());
            record.updated = peer.value("updated", "");
            doc.peers[name] = std::move(record);
        }
        for (const auto& item : changes) {
            doc.changes.push_back(change_from_json(item));
        }
        return doc;
    } catch (const json::exception& error) {
        return util::fail(util::ErrorKind::parse, std::string("malformed journal: ") + error.what());
    }
}

JournalDoc merge_journals(const JournalDoc& base, const JournalDoc& ours, const JournalDoc& theirs) {
    JournalDoc merged;
    merged.cluster = ours.cluster.empty() ? theirs.cluster : ours.cluster;
    merged.rejected_peers = theirs.rejected_peers;
    // Peer records: ours where this run changed, added or removed one; theirs everywhere else.
    std::set<std::string> names;
    for (const auto* doc : {&base, &ours, &theirs}) {
        for (const auto& [name, record] : doc->peers) {
            names.insert(name);
        }
    }
    for (const auto& name : names) {
        const auto b = base.peers.find(name);
        const auto o = ours.peers.find(name);
        const auto t = theirs.peers.find(name);
        const bool had = b != base.peers.end();
        const bool has = o != ours.peers.end();
        const bool unchanged = had == has && (!had || same_peer(b->second, o->second));
        if (unchanged) {
            if (t != theirs.peers.end()) {
                merged.peers[name] = t->second;
            }
        } else if (has) {
            merged.peers[name] = o->second;
        }
    }
    // Changes (valid ones by id; rejected ones are theirs alone): theirs in their order, with this run's
    // edits applied, then the changes this run added.
    auto edited = [&](const std::string& id) {
        const Change* b = find_valid(base.changes, id);
        const Change* o = find_valid(ours.changes, id);
        return (b == nullptr) != (o == nullptr) || (b != nullptr && !same_change(*b, *o));
    };
    std::set<std::string> placed;
    for (const auto& change : theirs.changes) {
        if (!change.rejected.empty()) {
            if (find_valid(ours.changes, change.id) == nullptr) {
                merged.changes.push_back(change);
            }
            continue;
        }
        placed.insert(change.id);
        if (!edited(change.id)) {
            merged.changes.push_back(change);
        } else if (const Change* o = find_valid(ours.changes, change.id)) {
            merged.changes.push_back(*o);
        }
    }
    for (const auto& change : ours.changes) {
        if (change.rejected.empty() && !placed.contains(change.id) && edited(change.id)) {
            merged.changes.push_back(change);
        }
    }
    return merged;
}

util::Result<void> Journal::load(const std::string& cluster) {
    auto object = m_api->get(Kind::config_map, m_ns, df::k_mesh_journal);
    if (!object) {
        return std::unexpected(object.error().with_context("reading the journal"));
    }
    const std::lock_guard lock(m_mutex);
    m_doc = JournalDoc{};
    m_doc.cluster = cluster;
    m_base = m_doc;
    m_resource_version.clear();
    m_dirty = false;
    if (!*object) {
        return {};
    }
    const std::string where = fmt::format("ConfigMap {}/{}", m_ns, df::k_mesh_journal);
    const std::string body = text(child(**object, "data"), df::k_mesh_journal_key);
    auto parsed = util::parse_json(body);
    if (!parsed) {
        return util::fail(util::ErrorKind::parse, where + ": data." + std::string(df::k_mesh_journal_key) +
                                                      " is " + parsed.error().message +
                                                      "; fix or delete it (it records what join did)");
    }
    auto doc = journal_from_json(*parsed);
    if (!doc) {
        return std::unexpected(doc.error().with_context(where));
    }
    m_doc = std::move(*doc);
    if (m_doc.cluster.empty()) {
        m_doc.cluster = cluster;
    }
    m_base = m_doc;
    m_resource_version = text(child(**object, "metadata"), "resourceVersion");
    return {};
}

bool Journal::exists() const {
    const std::lock_guard lock(m_mutex);
    return !m_resource_version.empty();
}

JournalDoc Journal::snapshot() const {
    const std::lock_guard lock(m_mutex);
    JournalDoc doc = m_doc;
    std::erase_if(doc.changes, [](const Change& change) { return !change.rejected.empty(); });
    return doc;
}

std::vector<Change> Journal::rejected() const {
    const std::lock_guard lock(m_mutex);
    std::vector<Change> out;
    for (const auto& change : m_doc.changes) {
        if (!change.rejected.empty()) {
            out.push_back(change);
        }
    }
    return out;
}

std::vector<std::string> Journal::rejected_peers() const {
    const std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& [name, value] : m_doc.rejected_peers.items()) {
        out.push_back(name);
    }
    return out;
}

std::optional<Change> Journal::find(const std::string& id) const {
    const std::lock_guard lock(m_mutex);
    if (const Change* change = find_valid(m_doc.changes, id)) {
        return *change;
    }
    return std::nullopt;
}

bool Journal::intend(const Change& change, bool refresh_detail) {
    const std::lock_guard lock(m_mutex);
    // A rejected entry under this id is replaced: this run writes the object it claims to describe.
    m_dirty = std::erase_if(m_doc.changes,
                            [&](const Change& c) { return !c.rejected.empty() && c.id == change.id; }) > 0 ||
              m_dirty;
    for (auto& existing : m_doc.changes) {
        if (existing.id != change.id) {
            continue;
        }
        for (const auto& peer : change.peers) {
            m_dirty = existing.peers.insert(peer).second || m_dirty;
        }
        if (refresh_detail && existing.detail != change.detail) {
            existing.detail = change.detail;
            existing.state = "pending";
            m_dirty = true;
        }
        return existing.state == "applied";
    }
    Change added = change;
    added.state = "pending";
    m_doc.changes.push_back(std::move(added));
    m_dirty = true;
    return false;
}

void Journal::mark_applied(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    for (auto& change : m_doc.changes) {
        if (change.rejected.empty() && change.id == id && change.state != "applied") {
            change.state = "applied";
            m_dirty = true;
        }
    }
}

void Journal::set_step(const std::string& peer, const std::string& step, const std::string& context) {
    const std::lock_guard lock(m_mutex);
    auto& record = m_doc.peers[peer];
    if (record.steps[step] != "done" || (!context.empty() && record.context != context)) {
        record.steps[step] = "done";
        if (!context.empty()) {
            record.context = context;
        }
        if (record.state.empty()) {
            record.state = "joining";
        }
        record.updated = util::format_rfc3339(std::chrono::system_clock::now());
        m_dirty = true;
    }
}

void Journal::set_peer_state(const std::string& peer, const std::string& state) {
    const std::lock_guard lock(m_mutex);
    auto& record = m_doc.peers[peer];
    if (record.state != state) {
        record.state = state;
        record.updated = util::format_rfc3339(std::chrono::system_clock::now());
        m_dirty = true;
    }
}

bool Journal::step_done(const std::string& peer, const std::string& step) const {
    const std::lock_guard lock(m_mutex);
    auto it = m_doc.peers.find(peer);
    return it != m_doc.peers.end() && it->second.steps.contains(step) && it->second.steps.at(step) == "done";
}

std::vector<Change> Journal::release_peer(const std::string& peer) {
    const std::lock_guard lock(m_mutex);
    std::vector<Change> unused;
    for (auto& change : m_doc.changes) {
        if (!change.rejected.empty()) {
            continue; // never acted on
        }
        if (change.peers.erase(peer) > 0) {
            m_dirty = true;
        }
        if (change.peers.empty()) {
            unused.push_back(change);
        }
    }
    std::reverse(unused.begin(), unused.end());
    return unused;
}

void Journal::forget(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    const auto before = m_doc.changes.size();
    std::erase_if(m_doc.changes, [&](const Change& c) { return c.rejected.empty() && c.id == id; });
    m_dirty = m_dirty || before != m_doc.changes.size();
}

void Journal::forget_peer(const std::string& peer) {
    const std::lock_guard lock(m_mutex);
    m_dirty = m_doc.peers.erase(peer) > 0 || m_dirty;
}

util::Result<void> Journal::flush() {
    const std::lock_guard lock(m_mutex);
    if (!m_dirty || m_dry_run) {
        return {};
    }
    const std::string where = fmt::format("ConfigMap {}/{}", m_ns, df::k_mesh_journal);
    if (m_doc.peers.empty() && m_doc.changes.empty()) {
        if (!m_resource_version.empty()) {
            if (auto removed = m_api->remove(Kind::config_map, m_ns, df::k_mesh_journal); !removed) {
                return std::unexpected(removed.error().with_context("deleting " + where));
            }
            if (auto removed = m_api->remove(Kind::secret, m_ns, df::k_mesh_journal_secrets); !removed) {
                return std::unexpected(removed.error());
            }
        }
        m_resource_version.clear();
        m_base = m_doc;
        m_dirty = false;
        return {};
    }
    json object = {{"apiVersion", "v1"},
                   {"kind", "ConfigMap"},
                   {"metadata",
                    {{"name", df::k_mesh_journal},
                     {"namespace", m_ns},
                     {"labels", {{std::string(df::k_managed_by_label), df::k_managed_by_meshlink}}}}},
                   {"data", {{std::string(df::k_mesh_journal_key), to_json(m_doc).dump(1)}}}};
    if (!m_resource_version.empty()) {
        object["metadata"]["resourceVersion"] = m_resource_version;
    }
    util::Result<json> written = m_resource_version.empty() ? m_api->create(Kind::config_map, m_ns, object)
                                                            : m_api->update(Kind::config_map, m_ns, object);
    // Someone else wrote in between (another run, an earlier attempt of this write whose answer was lost):
    // read what is stored, merge this run's edits into it, and write that, a few times at most.
    for (int merges = 0; !written &&
                         (written.error().kind == util::ErrorKind::conflict ||
                          written.error().kind == util::ErrorKind::already_exists) &&
                         merges < df::k_journal_merge_attempts;
         ++merges) {
        auto current = m_api->get(Kind::config_map, m_ns, df::k_mesh_journal);
        if (!current) {
            return std::unexpected(current.error().with_context("reading " + where + " again"));
        }
        JournalDoc theirs;
        theirs.cluster = m_doc.cluster;
        if (*current) {
            auto parsed = util::parse_json(text(child(**current, "data"), df::k_mesh_journal_key));
            auto doc = parsed ? journal_from_json(*parsed) : std::unexpected(parsed.error());
            if (!doc) {
                return std::unexpected(doc.error().with_context(where + " as another writer left it"));
            }
            theirs = std::move(*doc);
        }
        m_doc = merge_journals(m_base, m_doc, theirs);
        m_base = theirs;
        object["data"][std::string(df::k_mesh_journal_key)] = to_json(m_doc).dump(1);
        if (*current) {
            object["metadata"]["resourceVersion"] = text(child(**current, "metadata"), "resourceVersion");
            written = m_api->update(Kind::config_map, m_ns, object);
        } else {
            object["metadata"].erase("resourceVersion");
            written = m_api->create(Kind::config_map, m_ns, object);
        }
    }
    if (!written) {
        return std::unexpected(written.error().with_context("writing " + where));
    }
    m_resource_version = text(child(*written, "metadata"), "resourceVersion");
    m_base = m_doc;
    m_dirty = false;
    return {};
}

util::Result<void> Journal::backup(const std::map<std::string, std::string>& values) {
    if (m_dry_run || values.empty()) {
        return {};
    }
    json data = json::object();
    for (const auto& [key, value] : values) {
        data[key] = util::base64_encode(value);
    }
    auto current = m_api->get(Kind::secret, m_ns, df::k_mesh_journal_secrets);
    if (!current) {
        return std::unexpected(current.error());
    }
    if (!*current) {
        const json secret = {
            {"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata",
             {{"name", df::k_mesh_journal_secrets},
              {"namespace", m_ns},
              {"labels", {{std::string(df::k_managed_by_label), df::k_managed_by_meshlink}}}}},
            {"type", "Opaque"},
            {"data", data}};
        auto created = m_api->create(Kind::secret, m_ns, secret);
        if (created || created.error().kind != util::ErrorKind::already_exists) {
            return created ? util::Result<void>() : std::unexpected(created.error());
        }
    }
    auto patched = m_api->patch(Kind::secret, m_ns, df::k_mesh_journal_secrets, kube::PatchType::merge,
                                {{"data", data}});
    return patched ? util::Result<void>() : std::unexpected(patched.error());
}

util::Result<std::map<std::string, std::string>> Journal::restore(const std::vector<std::string>& keys) {
    std::map<std::string, std::string> out;
    auto current = m_api->get(Kind::secret, m_ns, df::k_mesh_journal_secrets);
    if (!current) {
        return std::unexpected(current.error());
    }
    if (!*current) {
        return out;
    }
    const json& data = child(**current, "data");
    for (const auto& key : keys) {
        const std::string value = text(data, key);
        if (value.empty()) {
            continue;
        }
        auto decoded = util::base64_decode(value);
        if (!decoded) {
            return util::fail(util::ErrorKind::parse,
                              fmt::format("Secret {}/{} data.{}: {}", m_ns, df::k_mesh_journal_secrets, key,
                                          decoded.error().message));
        }
        out[key] = std::move(*decoded);
    }
    return out;
}

util::Result<void> Journal::drop_backup(const std::vector<std::string>& keys) {
    if (m_dry_run || keys.empty()) {
        return {};
    }
    json data = json::object();
    for (const auto& key : keys) {
        data[key] = nullptr;
    }
    auto patched = m_api->patch(Kind::secret, m_ns, df::k_mesh_journal_secrets, kube::PatchType::merge,
                                {{"data", data}});
    if (!patched && patched.error().kind != util::ErrorKind::not_found) {
        return std::unexpected(patched.error());
    }
    return {};
}

} // namespace meshlink::plugin::mesh
