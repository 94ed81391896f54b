#include "node-agent/publish/publisher.hpp"

#include "node-agent/defaults.hpp"

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
        kube::WriteOptions options = write_options();
        options.retry_unsafe = true; // sets fixed values: sending it twice gives the same Node
        auto patched = m_client.patch(kube::api_path("", "v1", "nodes", "", node), kube::PatchType::merge,
                                      merge_patch, options);
        if (!patched) {
            return std::unexpected(patched.error());
        }
        return {};
    }

    util::Result<std::optional<nlohmann::json>> get_lease(std::string_view name) override {
        auto lease = m_client.get(lease_path(name));
        if (!lease) {
            if (lease.error().kind == util::ErrorKind::not_found) {
                return std::optional<nlohmann::json>();
            }
            return std::unexpected(lease.error());
        }
        return std::optional<nlohmann::json>(std::move(*lease));
    }

    util::Result<nlohmann::json> create_lease(const nlohmann::json& lease) override {
        return m_client.create(lease_path(""), lease, write_options());
    }

    util::Result<nlohmann::json> update_lease(const nlohmann::json& lease) override {
        const auto& name = lease["metadata"]["name"];
        return m_client.update(lease_path(name.is_string() ? name.get<std::string>() : std::string()), lease,
                               write_options());
    }

private:
    static kube::WriteOptions write_options() {
        kube::WriteOptions options;
        options.field_manager = std::string(defaults::k_agent_name);
        return options;
    }

    static std::string lease_path(std::string_view name) {
        return kube::api_path("coordination.k8s.io", "v1", "leases", probe::defaults::k_agent_namespace,
                              name);
    }

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

} // namespace

std::unique_ptr<NodeApi> make_node_api(kube::Client& client) {
    return std::make_unique<KubeNodeApi>(client);
}

std::string_view to_string(Change change) {
    switch (change) {
    case Change::none:
        return "none";
    case Change::report:
        return "report";
    }
    return "none";
}

PublishPlan plan_publish(const probe::NodeReport& desired, const nlohmann::json& metadata) {
    const std::string annotation_key(probe::defaults::k_report_annotation);
    const std::string ready_key(probe::defaults::k_kernel_ready_label);
    const std::string version_key(probe::defaults::k_kernel_version_label);
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
    if (const auto text = string_member(*annotations, annotation_key)) {
        // Through the one reader: what it refuses (too deep, a wrong type, another schema) is replaced.
        auto published = probe::parse_report(*text);
        if (!published.report) {
            reasons.push_back("the published report is unusable: " + published.problem);
        } else {
            document_changed = comparable(std::move(published.report->document)) != desired_document;
            if (document_changed) {
                reasons.push_back("report changed");
            }
        }
    } else {
        reasons.push_back("first report");
    }

    PublishPlan plan;
    if (!document_changed && label_patch.empty()) {
        return plan;
    }
    plan.change = Change::report;
    nlohmann::json patch_metadata = nlohmann::json::object();
    patch_metadata["annotations"] = {{annotation_key, probe::annotation_text(desired)}};
    if (!label_patch.empty()) {
        patch_metadata["labels"] = std::move(label_patch);
    }
    plan.patch = {{"metadata", std::move(patch_metadata)}};
    for (std::size_t i = 0; i < reasons.size(); ++i) {
        plan.reason += (i == 0 ? "" : ", ") + reasons[i];
    }
    return plan;
}

LeaseKeeper::LeaseKeeper(std::string node, std::chrono::seconds interval)
    : m_node(std::move(node)), m_name(probe::lease_name(m_node)), m_interval(interval) {}

util::Result<void> LeaseKeeper::renew(NodeApi& api, std::string_view node_uid, Clock::time_point now) {
    auto written = write(api, node_uid, now);
    if (!written && (written.error().kind == util::ErrorKind::conflict ||
                     written.error().kind == util::ErrorKind::already_exists ||
                     written.error().kind == util::ErrorKind::not_found)) {
        // Someone else wrote it (or deleted it) since we last saw it: start from what the server has.
        m_lease.reset();
        written = write(api, node_uid, now);
    }
    if (!written) {
        m_lease.reset();
        return std::unexpected(written.error().with_context(
            fmt::format("renewing Lease {}/{}", probe::defaults::k_agent_namespace, m_name)));
    }
    return {};
}

util::Result<void> LeaseKeeper::write(NodeApi& api, std::string_view node_uid, Clock::time_point now) {
    if (!m_lease) {
        auto current = api.get_lease(m_name);
        if (!current) {
            return std::unexpected(current.error());
        }
        if (!*current) {
            auto created = api.create_lease(probe::make_lease(m_node, node_uid, m_interval, now));
            if (!created) {
                return std::unexpected(created.error());
            }
            m_lease = std::move(*created);
            return {};
        }
        m_lease = std::move(**current);
    }
    nlohmann::json next = *m_lease;
    probe::renew_lease(next, m_node, m_interval, now);
    auto updated = api.update_lease(next);
    if (!updated) {
        return std::unexpected(updated.error());
    }
    m_lease = std::move(*updated);
    return {};
}

util::Result<PublishResult> publish(NodeApi& api, std::string_view node, const probe::NodeReport& desired,
                                    LeaseKeeper& lease, Clock::time_point now) {
    auto metadata = api.get_metadata(node);
    if (!metadata) {
        return std::unexpected(metadata.error());
    }
    auto plan = plan_publish(desired, *metadata);
    if (plan.change != Change::none) {
        if (auto patched = api.patch(node, plan.patch); !patched) {
            return std::unexpected(patched.error());
        }
    }
    const auto uid = string_member(*metadata, "uid");
    if (auto renewed = lease.renew(api, uid.value_or(""), now); !renewed) {
        return std::unexpected(renewed.error());
    }
    return PublishResult{plan.change, std::move(plan.reason)};
}

} // namespace meshlink::agent::publish
