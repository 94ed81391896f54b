#include "plugin/mesh/kubeconfig_record.hpp"

#include "util/digest.hpp"
#include "util/file.hpp"
#include "util/files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace meshlink::plugin::mesh {
namespace {

using nlohmann::json;

constexpr int k_record_format = 1;
constexpr std::size_t k_record_limit = 1U << 20U; // a few entries per joined cluster

} // namespace

std::string pair_key(const std::string& a, const std::string& b) {
    return a < b ? a + "," + b : b + "," + a;
}

std::filesystem::path KubeconfigRecord::path_for(const std::filesystem::path& kubeconfig) {
    return std::filesystem::path(kubeconfig.string() + ".meshlink.json");
}

util::Result<KubeconfigRecord> KubeconfigRecord::load(const std::filesystem::path& kubeconfig) {
    KubeconfigRecord record(kubeconfig);
    const auto path = path_for(kubeconfig);
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
        return record;
    }
    util::ReadFileOptions options;
    options.regular_only = true;
    options.limit = k_record_limit;
    auto text = util::read_file(path, options);
    if (!text) {
        return util::fail(text.error().kind(), path.string() + ": " + text.error().reason());
    }
    const auto fail = [&](const std::string& why) {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("{}: {}; it records the kubeconfig entries join wrote to {}: fix or "
                                      "delete it (then remove those entries by hand when leaving)",
                                      path.string(), why, kubeconfig.string()));
    };
    const json doc = json::parse(*text, nullptr, false);
    if (!doc.is_object() || doc.value("format", 0) != k_record_format || !doc.contains("entries") ||
        !doc["entries"].is_array()) {
        return fail("not a meshlink kubeconfig record (format 1)");
    }
    for (const auto& item : doc["entries"]) {
        if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
            item["name"].get<std::string>().empty() || !item.value("pairs", json::array()).is_array()) {
            return fail("an entry is not {\"name\", \"server\", \"state\", \"pairs\"}");
        }
        RecordedEntries entries;
        entries.name = item["name"].get<std::string>();
        entries.server = item.value("server", "");
        entries.state = item.value("state", "pending");
        for (const auto& pair : item.value("pairs", json::array())) {
            if (pair.is_string()) {
                entries.pairs.insert(pair.get<std::string>());
            }
        }
        record.m_entries.push_back(std::move(entries));
    }
    record.m_original_sha256 = doc.value("originalSha256", "");
    record.m_original = doc.value("original", "");
    record.m_written_sha256 = doc.value("writtenSha256", "");
    return record;
}

std::optional<RecordedEntries> KubeconfigRecord::find(const std::string& name) const {
    for (const auto& entries : m_entries) {
        if (entries.name == name) {
            return entries;
        }
    }
    return std::nullopt;
}

void KubeconfigRecord::intend(const std::string& name, const std::string& server,
                              const std::set<std::string>& pairs) {
    for (auto& entries : m_entries) {
        if (entries.name == name) {
            if (entries.server != server) {
                entries.server = server;
                entries.state = "pending";
                m_dirty = true;
            }
            for (const auto& pair : pairs) {
                m_dirty = entries.pairs.insert(pair).second || m_dirty;
            }
            return;
        }
    }
    m_entries.push_back({name, server, "pending", pairs});
    m_dirty = true;
}

void KubeconfigRecord::mark_applied(const std::string& name) {
    for (auto& entries : m_entries) {
        if (entries.name == name && entries.state != "applied") {
            entries.state = "applied";
            m_dirty = true;
        }
    }
}

void KubeconfigRecord::forget(const std::string& name) {
    m_dirty =
        std::erase_if(m_entries, [&](const RecordedEntries& entries) { return entries.name == name; }) > 0 ||
        m_dirty;
}

std::vector<RecordedEntries> KubeconfigRecord::release(const std::string& pair) {
    std::vector<RecordedEntries> unused;
    for (auto& entries : m_entries) {
        if (entries.pairs.erase(pair) > 0) {
            m_dirty = true;
            if (entries.pairs.empty()) {
                unused.push_back(entries);
            }
        }
    }
    return unused;
}

void KubeconfigRecord::before_write() {
    if (!m_original_sha256.empty()) {
        return; // known already
    }
    auto current = util::read_file(m_kubeconfig);
    if (!current) {
        return; // nothing to put back (leave then removes entries one by one)
    }
    m_original_sha256 = util::to_hex(util::sha256(*current));
    m_dirty = true;
}

void KubeconfigRecord::wrote(std::string_view written, const std::vector<std::filesystem::path>& backups) {
    m_written_sha256 = util::to_hex(util::sha256(written));
    m_dirty = true;
    if (!m_original.empty() || m_original_sha256.empty()) {
        return;
    }
    for (const auto& backup : backups) {
        auto content = util::read_file(backup);
        if (content && util::to_hex(util::sha256(*content)) == m_original_sha256) {
            m_original = backup.string();
            return;
        }
    }
}

std::optional<std::filesystem::path> KubeconfigRecord::restorable(std::string_view current) const {
    std::error_code error;
    if (!m_entries.empty() || m_original.empty() || util::to_hex(util::sha256(current)) != m_written_sha256 ||
        !std::filesystem::is_regular_file(m_original, error)) {
        return std::nullopt;
    }
    // The backup must still hold the original (backups are pruned and could be replaced).
    auto content = util::read_file(m_original);
    if (!content || util::to_hex(util::sha256(*content)) != m_original_sha256) {
        return std::nullopt;
    }
    return std::filesystem::path(m_original);
}

util::Result<void> KubeconfigRecord::save() {
    if (!m_dirty) {
        return {};
    }
    const auto path = path_for(m_kubeconfig);
    if (m_entries.empty()) {
        auto removed = util::remove_file_durably(path);
        m_dirty = !removed;
        return removed;
    }
    json entries = json::array();
    for (const auto& e : m_entries) {
        entries.push_back({{"name", e.name}, {"server", e.server}, {"state", e.state}, {"pairs", e.pairs}});
    }
    json doc = {{"format", k_record_format}, {"entries", entries}};
    for (const auto& [key, value] :
         {std::pair{"originalSha256", &m_original_sha256}, std::pair{"original", &m_original},
          std::pair{"writtenSha256", &m_written_sha256}}) {
        if (!value->empty()) {
            doc[key] = *value;
        }
    }
    auto written = util::write_file_atomically(path, doc.dump(1) + "\n", 0600);
    m_dirty = !written;
    return written;
}

} // namespace meshlink::plugin::mesh
