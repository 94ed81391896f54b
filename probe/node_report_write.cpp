// The node report's writer (node_report.hpp): what meshlink-agent publishes, built from a probe report, and
// its Lease. The reader is node_report.cpp.

#include "probe/node_report.hpp"
#include "util/rfc3339.hpp"

namespace meshlink::probe {
namespace {

// Where the two publisher-owned fields go: right after "node", so a person reading the annotation sees
// whose report it is and how old it is before the facts.
constexpr std::string_view k_anchor_key = "node";

} // namespace

NodeReport make_node_report(const Report& report, std::chrono::seconds interval, TimePoint observed_at) {
    // Through the text: the serializer replaces bytes that are not UTF-8, and the parsed form is exactly
    // what a reader of the annotation gets back, so "unchanged" compares like with like.
    const auto probed = nlohmann::ordered_json::parse(to_json_text(report));
    NodeReport out;
    out.document = nlohmann::ordered_json::object();
    for (const auto& [key, value] : probed.items()) {
        out.document[key] = value;
        if (key == k_anchor_key) {
            out.document["intervalSeconds"] = interval.count();
        }
    }
    if (!out.document.contains("intervalSeconds")) {
        out.document["intervalSeconds"] = interval.count();
    }
    out.kernel_ready = !any_failed(report.checks);
    out.kernel_version = kernel_version_label(report.facts.kernel.release);
    out.observed_at = observed_at;
    return out;
}

std::string annotation_text(const NodeReport& report) {
    nlohmann::ordered_json document = nlohmann::ordered_json::object();
    bool placed = false;
    for (const auto& [key, value] : report.document.items()) {
        document[key] = value;
        if (key == k_anchor_key) {
            document["observedAt"] = util::format_rfc3339(report.observed_at);
            placed = true;
        }
    }
    if (!placed) {
        document["observedAt"] = util::format_rfc3339(report.observed_at);
    }
    return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

nlohmann::json make_lease(std::string_view node, std::string_view node_uid, std::chrono::seconds interval,
                          TimePoint now) {
    nlohmann::json metadata = {
        {"name", lease_name(node)},
        {"namespace", defaults::k_agent_namespace},
        {"labels",
         {{"app.kubernetes.io/name", defaults::k_agent_name}, {"app.kubernetes.io/part-of", "meshlink"}}}};
    if (!node_uid.empty()) {
        // Not blockOwnerDeletion: setting that needs permission on the Node's finalizers, and nothing should
        // wait for a Lease.
        metadata["ownerReferences"] = nlohmann::json::array(
            {{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}, {"uid", node_uid}}});
    }
    const std::string stamp = util::format_rfc3339_micro(now);
    return {{"apiVersion", "coordination.k8s.io/v1"},
            {"kind", "Lease"},
            {"metadata", std::move(metadata)},
            {"spec",
             {{"holderIdentity", node},
              {"leaseDurationSeconds", lease_duration(interval).count()},
              {"acquireTime", stamp},
              {"renewTime", stamp},
              {"leaseTransitions", 0}}}};
}

void renew_lease(nlohmann::json& lease, std::string_view node, std::chrono::seconds interval, TimePoint now) {
    if (!lease.is_object()) {
        lease = nlohmann::json::object();
    }
    auto& spec = lease["spec"];
    if (!spec.is_object()) {
        spec = nlohmann::json::object();
    }
    const std::string stamp = util::format_rfc3339_micro(now);
    if (!spec.contains("holderIdentity") || spec["holderIdentity"] != node) {
        spec["holderIdentity"] = node;
        spec["acquireTime"] = stamp;
        const auto& transitions = spec["leaseTransitions"];
        spec["leaseTransitions"] = transitions.is_number_integer() ? transitions.get<std::int64_t>() + 1 : 1;
    }
    spec["leaseDurationSeconds"] = lease_duration(interval).count();
    spec["renewTime"] = stamp;
}

} // namespace meshlink::probe
