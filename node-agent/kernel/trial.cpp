#include "node-agent/kernel/trial.hpp"

#include "node-agent/defaults.hpp"
#include "probe/kernel_release.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <system_error>

namespace meshlink::agent::kernel {
namespace {

constexpr std::array<std::pair<TrialState, std::string_view>, 5> k_states{{
    {TrialState::staging, "staging"},
    {TrialState::staged, "staged"},
    {TrialState::confirmed, "confirmed"},
    {TrialState::failed, "failed"},
    {TrialState::rolled_back, "rolled-back"},
}};

bool safe_entry_id(const std::string& id) {
    return id.size() <= 256 && id.find('/') == std::string::npos &&
           std::none_of(id.begin(), id.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

util::Result<std::string> string_field(const nlohmann::json& doc, const char* key, bool required) {
    if (!doc.contains(key) || doc[key].is_null()) {
        if (required) {
            return util::fail(util::ErrorKind::parse, fmt::format("field \"{}\" missing", key));
        }
        return std::string();
    }
    if (!doc[key].is_string()) {
        return util::fail(util::ErrorKind::parse, fmt::format("field \"{}\" is not a string", key));
    }
    return doc[key].get<std::string>();
}

util::Result<std::vector<std::string>> string_list(const nlohmann::json& doc, const char* key) {
    std::vector<std::string> out;
    if (!doc.contains(key) || doc[key].is_null()) {
        return out;
    }
    if (!doc[key].is_array()) {
        return util::fail(util::ErrorKind::parse, fmt::format("field \"{}\" is not a list", key));
    }
    for (const auto& item : doc[key]) {
        if (!item.is_string()) {
            return util::fail(util::ErrorKind::parse, fmt::format("field \"{}\" holds a non-string", key));
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

} // namespace

std::string_view to_string(TrialState state) {
    for (const auto& [value, name] : k_states) {
        if (value == state) {
            return name;
        }
    }
    return "unknown";
}

nlohmann::ordered_json to_json(const TrialRecord& record) {
    nlohmann::ordered_json doc;
    doc["schemaVersion"] = k_trial_schema_version;
    doc["state"] = to_string(record.state);
    doc["el"] = record.el;
    doc["flavor"] = record.flavor;
    doc["previous"] = {{"release", record.previous_release}, {"entry", record.previous_entry}};
    doc["target"] = {{"release", record.target_release},
                     {"entry", record.target_entry.empty() ? nlohmann::ordered_json(nullptr)
                                                           : nlohmann::ordered_json(record.target_entry)},
                     {"packages", record.packages}};
    doc["addedArgs"] = record.added_args;
    doc["bootId"] = record.boot_id;
    doc["stagedAt"] = record.staged_at;
    doc["updatedAt"] = record.updated_at;
    doc["guardDeadlineSeconds"] = record.guard_deadline_seconds;
    doc["repository"] = {{"url", record.repo_url}, {"keyFingerprints", record.key_fingerprints}};
    doc["outcome"] = record.outcome.is_null() ? nlohmann::ordered_json(nullptr)
                                              : nlohmann::ordered_json::parse(record.outcome.dump());
    return doc;
}

util::Result<TrialRecord> trial_from_json(const nlohmann::json& doc) {
    if (!doc.is_object()) {
        return util::fail(util::ErrorKind::parse, "not a JSON object");
    }
    if (!doc.contains("schemaVersion") || doc["schemaVersion"] != k_trial_schema_version) {
        return util::fail(util::ErrorKind::parse,
                          fmt::format("schemaVersion is not {} (written by another agent version?)",
                                      k_trial_schema_version));
    }
    TrialRecord record;
    auto state = string_field(doc, "state", true);
    if (!state) {
        return std::unexpected(state.error());
    }
    const auto found = std::find_if(k_states.begin(), k_states.end(),
                                    [&](const auto& pair) { return pair.second == *state; });
    if (found == k_states.end()) {
        return util::fail(util::ErrorKind::parse, fmt::format("unknown state \"{}\"", *state));
    }
    record.state = found->first;
    if (!doc.contains("el") || !doc["el"].is_number_integer()) {
        return util::fail(util::ErrorKind::parse, "field \"el\" missing or not a number");
    }
    record.el = doc["el"].get<int>();
    auto flavor = string_field(doc, "flavor", true);
    if (!flavor || (*flavor != "ml" && *flavor != "lt")) {
        return util::fail(util::ErrorKind::parse, "field \"flavor\" is not ml or lt");
    }
    record.flavor = *flavor;
    for (const char* part : {"previous", "target"}) {
        if (!doc.contains(part) || !doc[part].is_object()) {
            return util::fail(util::ErrorKind::parse, fmt::format("field \"{}\" missing", part));
        }
        auto release = string_field(doc[part], "release", true);
        auto entry = string_field(doc[part], "entry", std::string_view(part) == "previous");
        if (!release) {
            return std::unexpected(release.error().with_context(part));
        }
        if (!entry) {
            return std::unexpected(entry.error().with_context(part));
        }
        const auto parsed = probe::parse_kernel_release(*release);
        if (parsed.release != *release || !parsed.version) {
            return util::fail(util::ErrorKind::parse,
                              fmt::format("{}.release \"{}\" is not a kernel release", part, *release));
        }
        if (!safe_entry_id(*entry)) {
            return util::fail(util::ErrorKind::parse, fmt::format("{}.entry is not a boot entry id", part));
        }
        (std::string_view(part) == "previous" ? record.previous_release : record.target_release) = *release;
        (std::string_view(part) == "previous" ? record.previous_entry : record.target_entry) = *entry;
    }
    auto packages = string_list(doc["target"], "packages");
    auto args = string_list(doc, "addedArgs");
    if (!packages || !args) {
        return std::unexpected(!packages ? packages.error() : args.error());
    }
    record.packages = *packages;
    record.added_args = *args;
    for (const auto& arg : record.added_args) {
        if (arg.empty() || arg.size() > 128 || arg.find_first_of(" \t\n'\"\\") != std::string::npos) {
            return util::fail(util::ErrorKind::parse,
                              "addedArgs holds something that is not one kernel argument");
        }
    }
    for (auto [key, target] : {std::pair{"bootId", &record.boot_id}, std::pair{"stagedAt", &record.staged_at},
                               std::pair{"updatedAt", &record.updated_at}}) {
        auto value = string_field(doc, key, false);
        if (!value) {
            return std::unexpected(value.error());
        }
        *target = *value;
    }
    if (doc.contains("guardDeadlineSeconds") && doc["guardDeadlineSeconds"].is_number_integer()) {
        record.guard_deadline_seconds = doc["guardDeadlineSeconds"].get<long long>();
    }
    if (doc.contains("repository") && doc["repository"].is_object()) {
        auto url = string_field(doc["repository"], "url", false);
        auto fingerprints = string_list(doc["repository"], "keyFingerprints");
        if (url) {
            record.repo_url = *url;
        }
        if (fingerprints) {
            record.key_fingerprints = *fingerprints;
        }
    }
    if (doc.contains("outcome") && doc["outcome"].is_object()) {
        record.outcome = doc["outcome"];
    }
    return record;
}

util::Result<std::optional<TrialRecord>> read_trial(const probe::Host& files) {
    const auto path = files.in_root(defaults::k_kernel_trial_record);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !std::filesystem::is_symlink(path, ec)) {
        return std::optional<TrialRecord>();
    }
    auto text = probe::read_text(path, 1024 * 1024);
    if (!text.text) {
        return util::fail(util::ErrorKind::io, text.error);
    }
    auto doc = nlohmann::json::parse(*text.text, nullptr, false);
    if (doc.is_discarded()) {
        return util::fail(util::ErrorKind::parse, path.string() + ": not valid JSON");
    }
    auto record = trial_from_json(doc);
    if (!record) {
        return std::unexpected(record.error().with_context(path.string()));
    }
    return std::optional<TrialRecord>(std::move(*record));
}

util::Result<> write_trial(const probe::Host& files, TrialRecord& record) {
    record.updated_at = util::format_rfc3339(std::chrono::system_clock::now());
    return util::write_file_atomically(files.in_root(defaults::k_kernel_trial_record),
                                       to_json(record).dump(2) + "\n");
}

} // namespace meshlink::agent::kernel
