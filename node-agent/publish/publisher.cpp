#include "node-agent/publish/publisher.hpp"

#include "kube/exec_credential.hpp"
#include "node-agent/defaults.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

namespace meshlink::agent::publish {
namespace {

using Clock = std::chrono::system_clock;

class KubeNodeApi final : public NodeApi {
public:
    explicit KubeNodeApi(kube::Client& client) : m_client(client) {}

    util::Result<nlohmann::json> get_metadata(std::string_view node) override {
        kube::GetOptions options;
        options.metadata_only = true; // the report lives in metadata; spec and status are not ours
        auto object = m_client.get(kube::api_path("", "v1", "nodes", "", node), options);
        if (!object) {
            return std::unexpected(object.error());
        }
        if (!object->is_object() || !object->contains("metadata") || !(*object)["metadata"].is_object()) {
            return util::fail(util::ErrorKind::parse,
                              fmt::format("GET node \"{}\": the answer has no metadata object", node));
        }
        return std::move((*object)["metadata"]);
    }

    util::Result<void> patch(std::string_view node, const nlohmann::json& merge_patch) override {
        kube::WriteOptions options;
        options.field_manager = std::string(defaults::k_agent_name);
        options.retry_unsafe = true; // sets fixed values: sending it twice gives the same Node
        auto patched = m_client.patch(kube::api_path("", "v1", "nodes", "", node), kube::PatchType::merge,
                                      merge_patch, options);
        if (!patched) {
            return std::unexpected(patched.error());
        }
        return {};
    }

private:
    kube::Client& m_client;
};

const nlohmann::json* member(const nlohmann::json& object, std::string_view key) {
    if (!object.is_object()) {
        return nullptr;
    }
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> string_member(const nlohmann::json& object, std::string_view key) {
    const auto* value = member(object, key);
    if (value == nullptr || !value->is_string()) {
        return std::nullopt;
    }
    return value->get<std::string>();
}

// The document as compared for "changed": without observedAt, without the free space on /boot (it moves with
// every write to that filesystem, and /boot is often part of /) and without check messages, which only
// restate facts (the free space among them). What a reader acts on, facts and verdicts, is all compared.
nlohmann::json comparable(nlohmann::json document) {
    document.erase("observedAt");
    if (auto facts = document.find("facts"); facts != document.end() && facts->is_object()) {
        if (auto boot = facts->find("boot"); boot != facts->end() && boot->is_object()) {
            boot->erase("bootFreeBytes");
        }
    }
    if (auto checks = document.find("checks"); checks != document.end() && checks->is_array()) {
        for (auto& check : *checks) {
            if (check.is_object()) {
                check.erase("message");
            }
        }
    }
    return document;
}

std::string age_text(Clock::duration age) {
    return fmt::format("{}s", std::chrono::duration_cast<std::chrono::seconds>(age).count());
}

} // namespace

std::unique_ptr<NodeApi> make_node_api(kube::Client& client) {
    return std::make_unique<KubeNodeApi>(client);
}

std::string_view to_string(Change change) {
    switch (change) {
    case Change::none:
        return "none";
    case Change::heartbeat:
        return "heartbeat";
    case Change::report:
        return "report";
    }
    return "none";
}

PublishPlan plan_publish(const NodeReport& desired, const nlohmann::json& metadata, Clock::time_point now) {
    const std::string annotation_key(defaults::k_report_annotation);
    const std::string ready_key(defaults::k_kernel_ready_label);
    const std::string version_key(defaults::k_kernel_version_label);
    const nlohmann::json empty = nlohmann::json::object();
    const nlohmann::json* labels = member(metadata, "labels");
    const nlohmann::json* annotations = member(metadata, "annotations");
    if (labels == nullptr) {
        labels = &empty;
    }
    if (annotations == nullptr) {
        annotations = &empty;
    }

    std::vector<std::string> reasons;
    nlohmann::json label_patch = nlohmann::json::object();
    const std::string ready = desired.kernel_ready ? "true" : "false";
    if (string_member(*labels, ready_key) != ready) {
        label_patch[ready_key] = ready;
        reasons.push_back(ready_key + "=" + ready);
    }
    const auto current_version = string_member(*labels, version_key);
    if (desired.kernel_version && current_version != desired.kernel_version) {
        label_patch[version_key] = *desired.kernel_version;
        reasons.push_back(version_key + "=" + *desired.kernel_version);
    } else if (!desired.kernel_version && member(*labels, version_key) != nullptr) {
        label_patch[version_key] = nullptr; // the release is unknown now: an old value would mislead
        reasons.push_back(version_key + " removed (kernel release unknown)");
    }

    // The published document, parsed; compared as unordered JSON (see comparable()).
    const auto desired_document = comparable(nlohmann::json::parse(desired.document.dump()));
    bool document_changed = true;
    std::optional<Clock::time_point> observed_at;
    if (const auto text = string_member(*annotations, annotation_key)) {
        auto published = nlohmann::json::parse(*text, nullptr, false);
        if (published.is_discarded() || !published.is_object()) {
            reasons.push_back("the published report is not a JSON object");
        } else {
            if (const auto stamp = string_member(published, "observedAt")) {
                if (auto parsed = util::parse_rfc3339(*stamp)) {
                    observed_at = *parsed;
                }
            }
            document_changed = comparable(std::move(published)) != desired_document;
            if (document_changed) {
                reasons.push_back("report changed");
            }
        }
    } else {
        reasons.push_back("first report");
    }

    PublishPlan plan;
    if (document_changed || !label_patch.empty()) {
        plan.change = Change::report;
    } else {
        const auto interval_seconds = desired.document.value("intervalSeconds", std::int64_t{0});
        // 1.5 intervals: the middle between two probes, so jitter in when probes run cannot move the
        // heartbeat by a whole interval (see the header).
        const auto threshold = std::chrono::milliseconds(interval_seconds * 1500);
        if (!observed_at) {
            plan.change = Change::heartbeat;
            reasons.push_back("the published observedAt is missing or unreadable");
        } else if (now - *observed_at > threshold) {
            plan.change = Change::heartbeat;
            reasons.push_back("observedAt is " + age_text(now - *observed_at) + " old");
        }
    }
    if (plan.change == Change::none) {
        return plan;
    }
    nlohmann::json patch_metadata = nlohmann::json::object();
    // A heartbeat rewrites the annotation too: observedAt is inside the document.
    patch_metadata["annotations"] = {{annotation_key, annotation_text(desired)}};
    if (!label_patch.empty()) {
        patch_metadata["labels"] = std::move(label_patch);
    }
    plan.patch = {{"metadata", std::move(patch_metadata)}};
    for (std::size_t i = 0; i < reasons.size(); ++i) {
        plan.reason += (i == 0 ? "" : ", ") + reasons[i];
    }
    return plan;
}

util::Result<PublishResult> publish(NodeApi& api, std::string_view node, const NodeReport& desired,
                                    Clock::time_point now) {
    auto metadata = api.get_metadata(node);
    if (!metadata) {
        return std::unexpected(metadata.error());
    }
    auto plan = plan_publish(desired, *metadata, now);
    if (plan.change != Change::none) {
        if (auto patched = api.patch(node, plan.patch); !patched) {
            return std::unexpected(patched.error());
        }
    }
    return PublishResult{plan.change, std::move(plan.reason)};
}

} // namespace meshlink::agent::publish
