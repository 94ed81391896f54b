#pragma once
// ClusterFacts as gather() would leave them for a reachable cluster running Cilium, for testing the checks
// as the pure functions they are.

#include "plugin/preflight/check.hpp"
#include "plugin/preflight/facts.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace meshlink::plugin::preflight::testing {

inline ClusterFacts reachable_cluster(std::string context, CiliumConfig config) {
    ClusterFacts facts;
    facts.context = std::move(context);
    facts.version =
        util::Result<kube::ServerVersion>(kube::ServerVersion{"v1.30.4", "1", "30", "linux/amd64"});
    facts.access = util::Result<AccessReport>(AccessReport{27, {}});
    facts.config = util::Result<std::optional<CiliumConfig>>(std::move(config));
    CiliumDaemonSet ds;
    ds.desired = 3;
    ds.ready = 3;
    ds.image = "quay.io/cilium/cilium:v1.16.12";
    ds.version = probe::CiliumVersion{1, 16};
    ds.version_text = "1.16.12";
    facts.cilium = util::Result<std::optional<CiliumDaemonSet>>(ds);
    facts.clustermesh = util::Result<std::optional<ClusterMeshService>>(std::nullopt);
    facts.ca = util::Result<std::optional<CaCertificate>>(std::nullopt);
    return facts;
}

inline Cidrs cidrs(std::string_view text, std::string source = "test") {
    Cidrs out;
    out.prefixes = parse_prefix_list(text).prefixes;
    out.source = std::move(source);
    return out;
}

inline const Check& check_of(const std::vector<Check>& checks, std::string_view id) {
    for (const auto& check : checks) {
        if (check.id == id) {
            return check;
        }
    }
    BOOST_FAIL("no check " << id);
    return checks.front();
}

inline bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

} // namespace meshlink::plugin::preflight::testing

namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<meshlink::plugin::preflight::Status> {
    void operator()(std::ostream& out, meshlink::plugin::preflight::Status value) {
        out << meshlink::plugin::preflight::to_string(value);
    }
};
template <>
struct print_log_value<meshlink::plugin::preflight::Scope> {
    void operator()(std::ostream& out, meshlink::plugin::preflight::Scope value) {
        out << meshlink::plugin::preflight::to_string(value);
    }
};
} // namespace boost::test_tools::tt_detail
