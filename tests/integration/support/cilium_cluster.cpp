#include "tests/integration/support/cilium_cluster.hpp"

#include "kube/client.hpp"
#include "probe/report.hpp"
#include "util/base64.hpp"
#include "util/time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

namespace meshlink::test {
namespace {

using nlohmann::json;

// Image digests of the Cilium 1.16.12 release (its release notes); other versions get a made-up digest.
constexpr std::string_view k_cilium_digest_1_16_12 =
    "sha256:2474c606db9ac02ffad692a5115f48cdf1a6eb1856c312b2b08d2dd3ce3e9317";
constexpr std::string_view k_operator_digest_1_16_12 =
    "sha256:aafeefcc7f219fd4b6da8402c910fcf343c926383b351cb3fb911f7671e32c64";
constexpr std::string_view k_clustermesh_digest_1_16_12 =
    "sha256:6e4d3ea9c9cca18e90a542b717fec447a9bdf927de2013f4541818227f53754a";

std::string digest(std::string_view known, const std::string& version, std::string_view what) {
    if (version == "1.16.12") {
        return std::string(known);
    }
    const std::size_t hash = std::hash<std::string>{}(std::string(what) + version);
    return fmt::format("sha256:{:016x}{:016x}{:016x}{:016x}", hash, hash ^ 0x9e3779b97f4a7c15ULL, ~hash,
                       hash * 31);
}

// A kernel answering every BPF probe with "supported".
class CapableKernel final : public probe::BpfKernel {
public:
    int syscall_access() override { return 0; }
    int program_type(int) override { return 1; }
    int map_type(int) override { return 1; }
    int helper(int, int) override { return 1; }
    int jit() override { return 1; }
};

// The probe's document for a fixture, computed once per (fixture, bpf, cilium): thousands of nodes share it.
const json& probe_document(const std::string& fixture, bool bpf, const std::string& cilium) {
    static std::mutex mutex;
    static std::map<std::string, json> cache;
    const std::lock_guard lock(mutex);
    const std::string key = fixture + (bpf ? "+bpf" : "") + "@" + cilium;
    if (auto it = cache.find(key); it != cache.end()) {
        return it->second;
    }
    const auto base = std::filesystem::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/nodes" / fixture;
    probe::ProbeOptions options;
    options.host = probe::Host{base / "root", base / "proc", base / "sys", {}};
    options.node_name = "fixture";
    CapableKernel kernel;
    probe::BpfFeatures features(kernel);
    if (bpf) {
        options.bpf = &features;
    } else {
        options.bpf_skip_reason = "runtime BPF probes not run";
    }
    const auto version = probe::parse_cilium_version(cilium).value_or(probe::newest_cilium());
    const auto report = probe::make_report(options, version);
    return cache.emplace(key, json::parse(probe::to_json(report).dump())).first->second;
}

// kube/pki's base64 for Secret data.
std::string b64(std::string_view text) {
    return util::base64_encode(text);
}

std::string gzip(std::string_view text) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("deflateInit2 failed");
    }
    std::string out(deflateBound(&stream, text.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    stream.avail_in = static_cast<uInt>(text.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (rc != Z_STREAM_END) {
        throw std::runtime_error("deflate failed");
    }
    return out;
}

std::vector<CiliumNodeSpec> default_nodes(const std::string& context) {
    std::vector<CiliumNodeSpec> nodes(3);
    nodes[0].name = context + "-control-plane";
    nodes[0].control_plane = true;
    nodes[1].name = context + "-worker";
    nodes[2].name = context + "-worker2";
    nodes[2].fixture = "rocky9-elrepo";
    return nodes;
}

// Whether the seed being built carries Helm's ownership marks (CiliumClusterSpec::helm_owned_objects).
thread_local bool t_helm_owned = true;

json helm_labels(std::string_view name) {
    if (!t_helm_owned) {
        return {{"app.kubernetes.io/part-of", "cilium"}, {"app.kubernetes.io/name", name}};
    }
    return {{"app.kubernetes.io/managed-by", "Helm"},
            {"app.kubernetes.io/part-of", "cilium"},
            {"app.kubernetes.io/name", name}};
}

json helm_annotations() {
    if (!t_helm_owned) {
        return json::object();
    }
    return {{"meta.helm.sh/release-name", "cilium"}, {"meta.helm.sh/release-namespace", "kube-system"}};
}

// cilium-config as Cilium's Helm chart 1.16 renders it for its defaults, with the spec's mesh-relevant keys.
json cilium_config(const CiliumClusterSpec& s) {
    json data = {
        {"identity-allocation-mode", s.identity_allocation_mode},
        {"identity-heartbeat-timeout", "30m0s"},
        {"identity-gc-interval", "15m0s"},
        {"cilium-endpoint-gc-interval", "5m0s"},
        {"nodes-gc-interval", "5m0s"},
        {"debug", "false"},
        {"enable-policy", "default"},
        {"policy-cidr-match-mode", ""},
        {"proxy-prometheus-port", "9964"},
        {"operator-prometheus-serve-addr", ":9963"},
        {"enable-metrics", "true"},
        {"enable-ipv4", s.enable_ipv4 ? "true" : "false"},
        {"enable-ipv6", s.enable_ipv6 ? "true" : "false"},
        {"custom-cni-conf", "false"},
        {"enable-bpf-clock-probe", "false"},
        {"monitor-aggregation", "medium"},
        {"monitor-aggregation-interval", "5s"},
        {"monitor-aggregation-flags", "all"},
        {"bpf-map-dynamic-size-ratio", "0.0025"},
        {"bpf-policy-map-max", "16384"},
        {"bpf-lb-map-max", "65536"},
        {"bpf-lb-external-clusterip", "false"},
        {"bpf-events-drop-enabled", "true"},
        {"bpf-events-policy-verdict-enabled", "true"},
        {"bpf-events-trace-enabled", "true"},
        {"preallocate-bpf-maps", "false"},
        {"cluster-name", s.cluster_name.empty() ? std::string("default") : s.cluster_name},
        {"cluster-id", s.cluster_id.empty() ? std::string("0") : s.cluster_id},
        {"routing-mode", s.routing_mode},
        {"service-no-backend-response", "reject"},
        {"enable-l7-proxy", "true"},
        {"enable-ipv4-masquerade", "true"},
        {"enable-ipv4-big-tcp", "false"},
        {"enable-ipv6-big-tcp", "false"},
        {"enable-ipv6-masquerade", "true"},
        {"enable-tcx", "true"},
        {"datapath-mode", "veth"},
        {"enable-masquerade-to-route-source", "false"},
        {"enable-xt-socket-fallback", "true"},
        {"install-no-conntrack-iptables-rules", "false"},
        {"auto-direct-node-routes", s.routing_mode == "native" ? "true" : "false"},
        {"direct-routing-skip-unreachable", "false"},
        {"enable-local-redirect-policy", "false"},
        {"enable-runtime-device-detection", "true"},
        {"kube-proxy-replacement", s.kube_proxy_replacement},
        {"kube-proxy-replacement-healthz-bind-address", ""},
        {"bpf-lb-sock", "false"},
        {"bpf-lb-sock-terminate-pod-connections", "false"},
        {"enable-health-check-nodeport", "true"},
        {"enable-health-check-loadbalancer-ip", "false"},
        {"node-port-bind-protection", "true"},
        {"enable-auto-protect-node-port-range", "true"},
        {"bpf-lb-acceleration", "disabled"},
        {"enable-svc-source-range-check", "true"},
        {"enable-l2-neigh-discovery", "true"},
        {"arping-refresh-period", "30s"},
        {"k8s-require-ipv4-pod-cidr", "false"},
        {"k8s-require-ipv6-pod-cidr", "false"},
        {"enable-k8s-networkpolicy", "true"},
        {"write-cni-conf-when-ready", "/host/etc/cni/net.d/05-cilium.conflist"},
        {"cni-exclusive", "true"},
        {"cni-log-file", "/var/run/cilium/cilium-cni.log"},
        {"enable-endpoint-health-checking", "true"},
        {"enable-health-checking", "true"},
        {"enable-well-known-identities", "false"},
        {"enable-node-selector-labels", "false"},
        {"synchronize-k8s-nodes", "true"},
        {"operator-api-serve-addr", "127.0.0.1:9234"},
        {"enable-hubble", "true"},
        {"hubble-socket-path", "/var/run/cilium/hubble.sock"},
        {"hubble-export-file-max-size-mb", "10"},
        {"hubble-export-file-max-backups", "5"},
        {"hubble-listen-address", ":4244"},
        {"hubble-disable-tls", "false"},
        {"hubble-tls-cert-file", "/var/lib/cilium/tls/hubble/server.crt"},
        {"hubble-tls-key-file", "/var/lib/cilium/tls/hubble/server.key"},
        {"hubble-tls-client-ca-files", "/var/lib/cilium/tls/hubble/client-ca.crt"},
        {"ipam", s.ipam},
        {"ipam-cilium-node-update-rate", "15s"},
        {"egress-gateway-reconciliation-trigger-interval", "1s"},
        {"enable-vtep", "false"},
        {"vtep-endpoint", ""},
        {"vtep-cidr", ""},
        {"vtep-mask", ""},
        {"vtep-mac", ""},
        {"procfs", "/host/proc"},
        {"bpf-root", "/sys/fs/bpf"},
        {"cgroup-root", "/run/cilium/cgroupv2"},
        {"enable-k8s-terminating-endpoint", "true"},
        {"enable-sctp", "false"},
        {"k8s-client-qps", "10"},
        {"k8s-client-burst", "20"},
        {"remove-cilium-node-taints", "true"},
        {"set-cilium-node-taints", "true"},
        {"set-cilium-is-up-condition", "true"},
        {"unmanaged-pod-watcher-interval", "15"},
        {"dnsproxy-enable-transparent-mode", "true"},
        {"dnsproxy-socket-linger-timeout", "10"},
        {"tofqdns-dns-reject-response-code", "refused"},
        {"tofqdns-enable-dns-compression", "true"},
        {"tofqdns-endpoint-max-ip-per-hostname", "50"},
        {"tofqdns-idle-connection-grace-period", "0s"},
        {"tofqdns-max-deferred-connection-deletes", "10000"},
        {"tofqdns-proxy-response-max-delay", "100ms"},
        {"agent-not-ready-taint-key", "node.cilium.io/agent-not-ready"},
        {"mesh-auth-enabled", "true"},
        {"mesh-auth-queue-size", "1024"},
        {"mesh-auth-rotated-identities-queue-size", "1024"},
        {"mesh-auth-gc-interval", "5m0s"},
        {"proxy-xff-num-trusted-hops-ingress", "0"},
        {"proxy-xff-num-trusted-hops-egress", "0"},
        {"proxy-connect-timeout", "2"},
        {"proxy-max-requests-per-connection", "0"},
        {"proxy-max-connection-duration-seconds", "0"},
        {"proxy-idle-timeout-seconds", "60"},
        {"external-envoy-proxy", "true"},
        {"envoy-base-id", "0"},
        {"envoy-keep-cap-netbindservice", "false"},
        {"max-connected-clusters", s.max_connected_clusters},
        {"clustermesh-enable-endpoint-sync", "false"},
        {"clustermesh-enable-mcs-api", "false"},
        {"nat-map-stats-entries", "32"},
        {"nat-map-stats-interval", "30s"},
    };
    if (s.routing_mode == "tunnel") {
        data["tunnel-protocol"] = s.tunnel_protocol;
        data["tunnel-source-port-range"] = "0-0";
    }
    if (!s.native_routing_cidr.empty()) {
        data["ipv4-native-routing-cidr"] = s.native_routing_cidr;
    }
    if (s.ipam == "cluster-pool") {
        data["cluster-pool-ipv4-cidr"] = s.pod_cidr;
        data["cluster-pool-ipv4-mask-size"] = std::to_string(s.pod_mask_size);
        if (s.enable_ipv6 && !s.pod_cidr_v6.empty()) {
            data["cluster-pool-ipv6-cidr"] = s.pod_cidr_v6;
            data["cluster-pool-ipv6-mask-size"] = "120";
        }
    }
    return json{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata",
                 {{"name", "cilium-config"},
                  {"namespace", "kube-system"},
                  {"labels", t_helm_owned ? json{{"app.kubernetes.io/managed-by", "Helm"}} : json::object()},
                  {"annotations", helm_annotations()}}},
                {"data", data}};
}

json volume_mount(std::string_view name, std::string_view path, bool read_only = false) {
    json out = {{"name", name}, {"mountPath", path}};
    if (read_only) {
        out["readOnly"] = true;
    }
    return out;
}

json cilium_daemonset(const CiliumClusterSpec& s, int nodes) {
    const std::string image = fmt::format("quay.io/cilium/cilium:v{}@{}", s.cilium_version,
                                          digest(k_cilium_digest_1_16_12, s.cilium_version, "cilium"));
    json labels = helm_labels("cilium-agent");
    labels["k8s-app"] = "cilium";
    const json env = json::array({
        {{"name", "K8S_NODE_NAME"},
         {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "spec.nodeName"}}}}}},
        {{"name", "CILIUM_K8S_NAMESPACE"},
         {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}}}}}},
        {{"name", "CILIUM_CLUSTERMESH_CONFIG"}, {"value", "/var/lib/cilium/clustermesh/"}},
        {{"name", "GOMEMLIMIT"},
         {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.memory"}, {"divisor", "1"}}}}}},
    });
    const json agent = {
        {"name", "cilium-agent"},
        {"image", image},
        {"imagePullPolicy", "IfNotPresent"},
        {"command", {"cilium-agent"}},
        {"args", {"--config-dir=/tmp/cilium/config-map"}},
        {"env", env},
        {"ports",
         json::array(
             {{{"name", "peer-service"}, {"containerPort", 4244}, {"hostPort", 4244}, {"protocol", "TCP"}}})},
        {"readinessProbe",
         {{"httpGet", {{"host", "127.0.0.1"}, {"path", "/healthz"}, {"port", 9879}, {"scheme", "HTTP"}}},
          {"periodSeconds", 30},
          {"successThreshold", 1},
          {"failureThreshold", 3},
          {"timeoutSeconds", 5}}},
        {"securityContext",
         {{"seLinuxOptions", {{"level", "s0"}, {"type", "spc_t"}}},
          {"capabilities",
           {{"add",
             {"CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_MODULE", "SYS_ADMIN", "SYS_RESOURCE",
              "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}},
            {"drop", {"ALL"}}}}}},
        {"terminationMessagePolicy", "FallbackToLogsOnError"},
        {"volumeMounts",
         json::array({volume_mount("bpf-maps", "/sys/fs/bpf"), volume_mount("cilium-run", "/var/run/cilium"),
                      volume_mount("etc-cni-netd", "/host/etc/cni/net.d"),
                      volume_mount("clustermesh-secrets", "/var/lib/cilium/clustermesh", true),
                      volume_mount("lib-modules", "/lib/modules", true),
                      volume_mount("xtables-lock", "/run/xtables.lock"), volume_mount("tmp", "/tmp")})},
    };
    const json init_config = {{"name", "config"},
                              {"image", image},
                              {"imagePullPolicy", "IfNotPresent"},
                              {"command", {"cilium-dbg", "build-config"}},
                              {"env", env},
                              {"volumeMounts", json::array({volume_mount("tmp", "/tmp")})},
                              {"terminationMessagePolicy", "FallbackToLogsOnError"}};
    const json install_cni = {{"name", "install-cni-binaries"},
                              {"image", image},
                              {"imagePullPolicy", "IfNotPresent"},
                              {"command", {"/install-plugin.sh"}},
                              {"volumeMounts", json::array({volume_mount("cni-path", "/host/opt/cni/bin")})},
                              {"terminationMessagePolicy", "FallbackToLogsOnError"}};
    const auto host_path = [](std::string_view name, std::string_view path, std::string_view type) {
        return json{{"name", name}, {"hostPath", {{"path", path}, {"type", type}}}};
    };
    json volumes = json::array({
        json{{"name", "tmp"}, {"emptyDir", json::object()}},
        host_path("cilium-run", "/var/run/cilium", "DirectoryOrCreate"),
        host_path("bpf-maps", "/sys/fs/bpf", "DirectoryOrCreate"),
        host_path("cni-path", "/opt/cni/bin", "DirectoryOrCreate"),
        host_path("etc-cni-netd", "/etc/cni/net.d", "DirectoryOrCreate"),
        host_path("lib-modules", "/lib/modules", ""),
        host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
        json{{"name", "clustermesh-secrets"},
             {"projected",
              {{"defaultMode", 256},
               {"sources",
                json::array(
                    {json{{"secret", {{"name", "cilium-clustermesh"}, {"optional", true}}}},
                     json{{"secret",
                           {{"name", "clustermesh-apiserver-remote-cert"},
                            {"optional", true},
                            {"items", json::array({{{"key", "tls.key"}, {"path", "common-etcd-client.key"}},
                                                   {{"key", "tls.crt"}, {"path", "common-etcd-client.crt"}},
                                                   {{"key", "ca.crt"},
                                                    {"path", "common-etcd-client-ca.crt"}}})}}}}})}}}},
    });
    return json{
        {"apiVersion", "apps/v1"},
        {"kind", "DaemonSet"},
        {"metadata",
         {{"name", "cilium"},
          {"namespace", "kube-system"},
          {"labels", labels},
          {"annotations", helm_annotations()},
          {"generation", 1}}},
        {"spec",
         {{"selector", {{"matchLabels", {{"k8s-app", "cilium"}}}}},
          {"updateStrategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 2}}}}},
          {"template",
           {{"metadata",
             {{"labels", labels},
              {"annotations",
               {{"container.apparmor.security.beta.kubernetes.io/cilium-agent", "unconfined"}}}}},
            {"spec",
             {{"containers", json::array({agent})},
              {"initContainers", json::array({init_config, install_cni})},
              {"restartPolicy", "Always"},
              {"priorityClassName", "system-node-critical"},
              {"serviceAccountName", "cilium"},
              {"automountServiceAccountToken", true},
              {"terminationGracePeriodSeconds", 1},
              {"hostNetwork", true},
              {"nodeSelector", {{"kubernetes.io/os", "linux"}}},
              {"tolerations", json::array({{{"operator", "Exists"}}})},
              {"volumes", volumes}}}}}}},
        {"status",
         {{"currentNumberScheduled", nodes},
          {"desiredNumberScheduled", nodes},
          {"numberAvailable", nodes},
          {"numberMisscheduled", 0},
          {"numberReady", nodes},
          {"observedGeneration", 1},
          {"updatedNumberScheduled", nodes}}},
    };
}

json deployment(std::string_view name, std::string_view app_label_key, std::string_view app_label,
                const std::string& image, json command, json args) {
    json labels = helm_labels(name);
    labels[std::string(app_label_key)] = app_label;
    return json{
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata",
         {{"name", name},
          {"namespace", "kube-system"},
          {"labels", labels},
          {"annotations", helm_annotations()},
          {"generation", 1}}},
        {"spec",
         {{"replicas", 1},
          {"selector", {{"matchLabels", {{std::string(app_label_key), app_label}}}}},
          {"template",
           {{"metadata", {{"labels", labels}}},
            {"spec",
             {{"containers", json::array({{{"name", name},
                                           {"image", image},
                                           {"imagePullPolicy", "IfNotPresent"},
                                           {"command", std::move(command)},
                                           {"args", std::move(args)}}})},
              {"restartPolicy", "Always"},
              {"priorityClassName", "system-cluster-critical"},
              {"serviceAccountName", name},
              {"nodeSelector", {{"kubernetes.io/os", "linux"}}}}}}}}},
        {"status",
         {{"observedGeneration", 1},
          {"replicas", 1},
          {"updatedReplicas", 1},
          {"readyReplicas", 1},
          {"availableReplicas", 1},
          {"conditions", json::array({{{"type", "Available"},
                                       {"status", "True"},
                                       {"reason", "MinimumReplicasAvailable"},
                                       {"message", "Deployment has minimum availability."}}})}}},
    };
}

std::string node_ip(const CiliumClusterSpec& s, const CiliumNodeSpec& node, std::size_t index) {
    return node.internal_ip.empty() ? fmt::format("{}.{}", s.node_network, 10 + index) : node.internal_ip;
}

// The index-th /mask of `pool` (IPv4), for the nodes' podCIDR with ipam=kubernetes.
std::string node_pod_cidr(const std::string& pool, int mask, std::size_t index) {
    const auto slash = pool.find('/');
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (std::sscanf(pool.substr(0, slash).c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) {
        return pool;
    }
    const std::uint32_t base = (a << 24) | (b << 16) | (c << 8) | d;
    const std::uint32_t address = base + static_cast<std::uint32_t>(index << (32 - mask));
    return fmt::format("{}.{}.{}.{}/{}", address >> 24, (address >> 16) & 255, (address >> 8) & 255,
                       address & 255, mask);
}

// NFD-style label value: [A-Za-z0-9._-], at most 63 characters, alphanumeric at both ends.
std::string label_value(std::string text) {
    for (auto& c : text) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
            c = '_';
        }
    }
    text.resize(std::min<std::size_t>(text.size(), 63));
    while (!text.empty() && !std::isalnum(static_cast<unsigned char>(text.back()))) {
        text.pop_back();
    }
    return text;
}

json node_object(const CiliumClusterSpec& s, const CiliumNodeSpec& node, std::size_t index,
                 std::chrono::system_clock::time_point now) {
    const json& doc = probe_document(node.fixture, node.bpf_supported, s.cilium_version);
    const std::string release = doc["facts"]["kernel"].value("release", std::string("unknown"));
    const std::string os = doc["facts"]["os"]["prettyName"].is_string()
                               ? doc["facts"]["os"]["prettyName"].get<std::string>()
                               : std::string("Linux");
    json labels = {{"beta.kubernetes.io/arch", "amd64"},
                   {"beta.kubernetes.io/os", "linux"},
                   {"kubernetes.io/arch", "amd64"},
                   {"kubernetes.io/hostname", node.name},
                   {"kubernetes.io/os", "linux"}};
    json annotations = {{"node.alpha.kubernetes.io/ttl", "0"},
                        {"volumes.kubernetes.io/controller-managed-attach-detach", "true"},
                        {"kubeadm.alpha.kubernetes.io/cri-socket", "unix:///run/containerd/containerd.sock"}};
    json spec = json::object();
    if (node.control_plane) {
        labels["node-role.kubernetes.io/control-plane"] = "";
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = "";
        spec["taints"] =
            json::array({{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}});
    }
    if (s.ipam == "kubernetes") {
        const std::string cidr = node_pod_cidr(s.pod_cidr, s.pod_mask_size, index);
        spec["podCIDR"] = cidr;
        spec["podCIDRs"] = json::array({cidr});
    }
    if (node.report) {
        bool ready = true;
        for (const auto& check : doc["checks"]) {
            ready = ready && check.value("status", std::string()) != "fail";
        }
        labels["meshlink.io/kernel-ready"] = ready ? "true" : "false";
        labels["meshlink.io/kernel-version"] = label_value(release);
        annotations["meshlink.io/node-report"] = node_report_annotation(node, s.cilium_version, now);
    }
    const std::string ip = node_ip(s, node, index);
    const std::string created = util::format_rfc3339(now - std::chrono::hours(24 * 30));
    return json{
        {"apiVersion", "v1"},
        {"kind", "Node"},
        {"metadata", {{"name", node.name}, {"labels", labels}, {"annotations", annotations}}},
        {"spec", spec},
        {"status",
         {{"addresses", node.external_ip.empty()
                            ? json::array({{{"type", "InternalIP"}, {"address", ip}},
                                           {{"type", "Hostname"}, {"address", node.name}}})
                            : json::array({{{"type", "ExternalIP"}, {"address", node.external_ip}},
                                           {{"type", "InternalIP"}, {"address", ip}},
                                           {{"type", "Hostname"}, {"address", node.name}}})},
          {"capacity",
           {{"cpu", "4"}, {"memory", "16365492Ki"}, {"pods", "110"}, {"ephemeral-storage", "101430960Ki"}}},
          {"allocatable",
           {{"cpu", "4"}, {"memory", "16263092Ki"}, {"pods", "110"}, {"ephemeral-storage", "93478772582"}}},
          {"conditions", json::array({{{"type", "Ready"},
                                       {"status", "True"},
                                       {"reason", "KubeletReady"},
                                       {"message", "kubelet is posting ready status"},
                                       {"lastHeartbeatTime", util::format_rfc3339(now)},
                                       {"lastTransitionTime", created}},
                                      {{"type", "NetworkUnavailable"},
                                       {"status", "False"},
                                       {"reason", "CiliumIsUp"},
                                       {"message", "Cilium is running on this node"},
                                       {"lastHeartbeatTime", created},
                                       {"lastTransitionTime", created}}})},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
          {"nodeInfo",
           {{"architecture", "amd64"},
            {"bootID", fmt::format("{:08x}-0000-4000-8000-{:012x}", index + 1, index + 1)},
            {"containerRuntimeVersion", "containerd://1.7.20"},
            {"kernelVersion", release},
            {"kubeProxyVersion", s.kubernetes_version},
            {"kubeletVersion", s.kubernetes_version},
            {"machineID", fmt::format("{:032x}", index + 1)},
            {"operatingSystem", "linux"},
            {"osImage", os},
            {"systemUUID", fmt::format("{:08x}-1111-4111-8111-{:012x}", index + 1, index + 1)}}}}},
    };
}

json kube_apiserver_pod(const CiliumClusterSpec& s, const CiliumNodeSpec& node, const std::string& ip) {
    const json command = {
        "kube-apiserver",
        "--advertise-address=" + ip,
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-servers=https://127.0.0.1:2379",
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
        "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        "--secure-port=6443",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        "--service-cluster-ip-range=" + s.service_cidr,
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    };
    const std::string name = "kube-apiserver-" + node.name;
    return json{
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         {{"name", name},
          {"namespace", "kube-system"},
          {"labels", {{"component", "kube-apiserver"}, {"tier", "control-plane"}}},
          {"annotations",
           {{"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint", ip + ":6443"},
            {"kubernetes.io/config.source", "file"}}}}},
        {"spec",
         {{"containers",
           json::array(
               {{{"name", "kube-apiserver"},
                 {"image", "registry.k8s.io/kube-apiserver:" + s.kubernetes_version},
                 {"imagePullPolicy", "IfNotPresent"},
                 {"command", command},
                 {"resources", {{"requests", {{"cpu", "250m"}}}}},
                 {"volumeMounts", json::array({volume_mount("ca-certs", "/etc/ssl/certs", true),
                                               volume_mount("k8s-certs", "/etc/kubernetes/pki", true)})}}})},
          {"hostNetwork", true},
          {"nodeName", node.name},
          {"priorityClassName", "system-node-critical"},
          {"priority", 2000001000},
          {"securityContext", {{"seccompProfile", {{"type", "RuntimeDefault"}}}}},
          {"tolerations", json::array({{{"operator", "Exists"}, {"effect", "NoExecute"}}})},
          {"volumes",
           json::array({{{"name", "ca-certs"},
                         {"hostPath", {{"path", "/etc/ssl/certs"}, {"type", "DirectoryOrCreate"}}}},
                        {{"name", "k8s-certs"},
                         {"hostPath", {{"path", "/etc/kubernetes/pki"}, {"type", "DirectoryOrCreate"}}}}})}}},
        {"status",
         {{"phase", "Running"},
          {"hostIP", ip},
          {"podIP", ip},
          {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}},
    };
}

json agent_pod(const CiliumClusterSpec& s, const CiliumNodeSpec& node, const std::string& ip,
               std::size_t index) {
    json labels = helm_labels("cilium-agent");
    labels["k8s-app"] = "cilium";
    labels["controller-revision-hash"] = "6b8f7c9d5d";
    labels["pod-template-generation"] = "1";
    const std::string image = fmt::format("quay.io/cilium/cilium:v{}@{}", s.cilium_version,
                                          digest(k_cilium_digest_1_16_12, s.cilium_version, "cilium"));
    return json{
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         {{"name", fmt::format("cilium-{:05x}", 0x1a2b3 + index * 7919 % 0xfffff)},
          {"namespace", "kube-system"},
          {"labels", labels},
          {"annotations", s.agent_status ? json{{"fakekube.meshlink.io/exec-stdout", s.agent_status->dump()}}
                                         : json::object()}}},
        {"spec",
         {{"containers", json::array({{{"name", "cilium-agent"},
                                       {"image", image},
                                       {"command", {"cilium-agent"}},
                                       {"args", {"--config-dir=/tmp/cilium/config-map"}}}})},
          {"hostNetwork", true},
          {"nodeName", node.name},
          {"serviceAccountName", "cilium"},
          {"priorityClassName", "system-node-critical"}}},
        {"status",
         {{"phase", "Running"},
          {"hostIP", ip},
          {"podIP", ip},
          {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}},
    };
}

json helm_release_secret(const CiliumClusterSpec& s) {
    // What `helm install` stores: base64(gzip(JSON release)), then base64 again as Secret data.
    const json values = {
        {"cluster",
         {{"name", s.cluster_name.empty() ? "default" : s.cluster_name},
          {"id", std::atoi(s.cluster_id.c_str())}}},
        {"ipam",
         {{"mode", s.ipam}, {"operator", {{"clusterPoolIPv4PodCIDRList", json::array({s.pod_cidr})}}}}},
        {"routingMode", s.routing_mode},
        {"tunnelProtocol", s.tunnel_protocol},
        {"kubeProxyReplacement", s.kube_proxy_replacement},
    };
    const json release = {
        {"name", "cilium"},
        {"namespace", "kube-system"},
        {"version", 1},
        {"info", {{"status", "deployed"}, {"description", "Install complete"}}},
        {"chart",
         {{"metadata",
           {{"name", "cilium"}, {"version", s.cilium_version}, {"appVersion", s.cilium_version}}}}},
        {"config", values},
        {"manifest", "---\n# Source: cilium/templates/cilium-configmap.yaml\n"},
    };
    return json{
        {"apiVersion", "v1"},
        {"kind", "Secret"},
        {"metadata",
         {{"name", "sh.helm.release.v1.cilium.v1"},
          {"namespace", "kube-system"},
          {"labels", {{"owner", "helm"}, {"name", "cilium"}, {"status", "deployed"}, {"version", "1"}}}}},
        {"type", "helm.sh/release.v1"},
        {"data", {{"release", b64(b64(gzip(release.dump())))}}}};
}

json clustermesh_objects(const CiliumClusterSpec& s, json& items) {
    const std::string image =
        fmt::format("quay.io/cilium/clustermesh-apiserver:v{}@{}", s.cilium_version,
                    digest(k_clustermesh_digest_1_16_12, s.cilium_version, "clustermesh"));
    json apiserver =
        deployment("clustermesh-apiserver", "k8s-app", "clustermesh-apiserver", image,
                   {"/usr/bin/clustermesh-apiserver"},
                   {"clustermesh", "--cluster-name=$(CLUSTER_NAME)", "--cluster-id=$(CLUSTER_ID)",
                    "--kvstore-opt=etcd.config=/var/lib/cilium/etcd-config.yaml"});
    if (s.kvstoremesh) {
        apiserver["spec"]["template"]["spec"]["containers"].push_back(
            {{"name", "kvstoremesh"},
             {"image", image},
             {"imagePullPolicy", "IfNotPresent"},
             {"command", {"/usr/bin/clustermesh-apiserver"}},
             {"args",
              {"kvstoremesh", "--cluster-name=$(CLUSTER_NAME)", "--cluster-id=$(CLUSTER_ID)",
               "--kvstore-opt=etcd.config=/var/lib/cilium/etcd-config.yaml",
               "--clustermesh-config=/var/lib/cilium/clustermesh"}}});
    }
    items.push_back(apiserver);
    if (s.clustermesh_certs && s.ca) {
        for (auto& secret :
             clustermesh_cert_secrets(s.cluster_name, *s.ca, s.kvstoremesh, s.helm_owned_objects)) {
            items.push_back(std::move(secret));
        }
    }
    json labels = helm_labels("clustermesh-apiserver");
    labels["k8s-app"] = "clustermesh-apiserver";
    return json{{"apiVersion", "v1"},
                {"kind", "Service"},
                {"metadata",
                 {{"name", "clustermesh-apiserver"},
                  {"namespace", "kube-system"},
                  {"labels", labels},
                  {"annotations", helm_annotations()}}},
                {"spec",
                 {{"type", "NodePort"},
                  {"selector", {{"k8s-app", "clustermesh-apiserver"}}},
                  {"ports", json::array({{{"port", 2379},
                                          {"protocol", "TCP"},
                                          {"targetPort", 2379},
                                          {"nodePort", *s.clustermesh_node_port}}})}}}};
}

} // namespace

kube::pki::KeyPair make_cilium_ca() {
    kube::pki::CertificateSpec spec;
    spec.common_name = "Cilium CA";
    spec.organizations = {"Cilium"};
    spec.validity = std::chrono::hours(24 * 365 * 3);
    auto ca = kube::pki::generate_ca(spec);
    if (!ca) {
        throw std::runtime_error("generate_ca: " + ca.error().message);
    }
    return *ca;
}

CiliumClusterSpec healthy_cluster(int index) {
    CiliumClusterSpec s;
    s.context = fmt::format("cluster{}", index);
    s.cluster_name = s.context;
    s.cluster_id = std::to_string(index);
    s.pod_cidr = fmt::format("10.{}.0.0/16", index);
    s.service_cidr = fmt::format("10.{}.0.0/16", 95 + index);
    s.node_network = fmt::format("192.168.{}", index);
    s.nodes = default_nodes(s.context);
    s.clustermesh_node_port = 32378 + index;
    s.ca = make_cilium_ca();
    return s;
}

std::string node_report_annotation(const CiliumNodeSpec& node, const std::string& cilium,
                                   std::chrono::system_clock::time_point now) {
    json doc = probe_document(node.fixture, node.bpf_supported, cilium);
    doc["node"] = node.name;
    doc["observedAt"] = util::format_rfc3339(now - node.report_age);
    doc["intervalSeconds"] = node.interval_seconds;
    return doc.dump();
}

json agent_status_document(const std::vector<std::string>& peers, bool ready, const std::string& failure) {
    json clusters = json::array();
    for (const auto& peer : peers) {
        json cluster = {
            {"name", peer},
            {"ready", ready},
            {"connected", ready},
            {"status", ready ? "ready" : "not ready"},
            {"num-nodes", ready ? 3 : 0},
            {"num-endpoints", ready ? 12 : 0},
            {"num-identities", ready ? 20 : 0},
            {"num-failures", ready ? 0 : 3},
            {"config", {{"required", true}, {"retrieved", ready}}},
            {"synced", {{"nodes", ready}, {"endpoints", ready}, {"identities", ready}, {"services", ready}}}};
        if (!failure.empty()) {
            cluster["last-failure"] = failure;
        }
        clusters.push_back(cluster);
    }
    return {{"cluster-mesh", {{"clusters", clusters}, {"num-global-services", 0}}},
            {"kvstore", {{"state", "Disabled"}}},
            {"cilium", {{"state", "Ok"}, {"msg", "OK"}}}};
}

std::vector<json> clustermesh_cert_secrets(const std::string& cluster_name, const kube::pki::KeyPair& ca,
                                           bool kvstoremesh, bool helm_owned) {
    namespace pki = kube::pki;
    struct Leaf {
        std::string secret;
        std::string cn;
        std::vector<std::string> dns;
        std::vector<std::string> ips;
        pki::ExtKeyUsage usage;
    };
    // CNs and SANs as cilium-certgen makes them (docs/cilium-clustermesh.md, "Enabling the
    // clustermesh-apiserver").
    std::vector<Leaf> leaves = {
        {"clustermesh-apiserver-server-cert",
         "clustermesh-apiserver.cilium.io",
         {"clustermesh-apiserver.cilium.io", "*.mesh.cilium.io", "clustermesh-apiserver.kube-system.svc"},
         {"127.0.0.1", "::1"},
         pki::ExtKeyUsage::server_auth},
        {"clustermesh-apiserver-admin-cert", "admin-" + cluster_name, {}, {}, pki::ExtKeyUsage::client_auth},
        {"clustermesh-apiserver-remote-cert", "remote", {}, {}, pki::ExtKeyUsage::client_auth},
    };
    if (kvstoremesh) {
        leaves.push_back({"clustermesh-apiserver-local-cert",
                          "local-" + cluster_name,
                          {},
                          {},
                          pki::ExtKeyUsage::client_auth});
    }
    std::vector<json> out;
    for (const auto& leaf : leaves) {
        pki::CertificateSpec spec;
        spec.common_name = leaf.cn;
        spec.dns_names = leaf.dns;
        spec.ip_addresses = leaf.ips;
        spec.ext_key_usage = {leaf.usage};
        spec.validity = std::chrono::hours(24 * 1095);
        auto pair = pki::generate_signed(spec, ca);
        if (!pair) {
            throw std::runtime_error("generate_signed " + leaf.secret + ": " + pair.error().message);
        }
        json labels = {{"app.kubernetes.io/part-of", "cilium"}};
        if (helm_owned) {
            labels["app.kubernetes.io/managed-by"] = "Helm";
        }
        out.push_back(
            json{{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", leaf.secret}, {"namespace", "kube-system"}, {"labels", labels}}},
                 {"type", "kubernetes.io/tls"},
                 {"data",
                  {{"ca.crt", b64(ca.cert_pem)},
                   {"tls.crt", b64(pair->cert_pem)},
                   {"tls.key", b64(pair->key_pem)}}}});
    }
    return out;
}

json cilium_cluster_seed(const CiliumClusterSpec& spec, std::chrono::system_clock::time_point now) {
    struct HelmMarks {
        explicit HelmMarks(bool owned) { t_helm_owned = owned; }
        ~HelmMarks() { t_helm_owned = true; }
        HelmMarks(const HelmMarks&) = delete;
        HelmMarks& operator=(const HelmMarks&) = delete;
    } marks(spec.helm_owned_objects);
    CiliumClusterSpec s = spec;
    if (s.nodes.empty()) {
        s.nodes = default_nodes(s.context);
    }
    json items = json::array();
    items.push_back(cilium_config(s));
    items.push_back(cilium_daemonset(s, static_cast<int>(s.nodes.size())));
    items.push_back(deployment("cilium-operator", "io.cilium/app", "operator",
                               fmt::format("quay.io/cilium/operator-generic:v{}@{}", s.cilium_version,
                                           digest(k_operator_digest_1_16_12, s.cilium_version, "operator")),
                               {"cilium-operator-generic"},
                               {"--config-dir=/tmp/cilium/config-map", "--debug=$(CILIUM_DEBUG)"}));
    for (std::size_t i = 0; i < s.nodes.size(); ++i) {
        const auto& node = s.nodes[i];
        items.push_back(node_object(s, node, i, now));
        const std::string ip = node_ip(s, node, i);
        if (node.control_plane) {
            items.push_back(kube_apiserver_pod(s, node, ip));
        }
        if (s.agent_pods) {
            items.push_back(agent_pod(s, node, ip, i));
        }
    }
    if (s.clustermesh_node_port) {
        items.push_back(clustermesh_objects(s, items));
    }
    if (s.ca) {
        items.push_back(json{{"apiVersion", "v1"},
                             {"kind", "Secret"},
                             {"metadata",
                              {{"name", "cilium-ca"},
                               {"namespace", "kube-system"},
                               {"labels", helm_labels("cilium-ca")},
                               {"annotations", helm_annotations()}}},
                             {"type", "Opaque"},
                             {"data", {{"ca.crt", b64(s.ca->cert_pem)}, {"ca.key", b64(s.ca->key_pem)}}}});
    }
    if (s.helm_release) {
        items.push_back(helm_release_secret(s));
    }
    if (s.readonly_user) {
        items.push_back(json{{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", "fakekube-authorization"}, {"namespace", "kube-system"}}},
                             {"data", {{"mode", "RBAC"}}}});
        items.push_back(json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                             {"kind", "ClusterRole"},
                             {"metadata", {{"name", "read-only"}}},
                             {"rules", json::array({{{"apiGroups", {"*"}},
                                                     {"resources", {"*"}},
                                                     {"verbs", {"get", "list", "watch"}}}})}});
        items.push_back(json{
            {"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "ClusterRoleBinding"},
            {"metadata", {{"name", "read-only-" + *s.readonly_user}}},
            {"roleRef",
             {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "read-only"}}},
            {"subjects", json::array({{{"apiGroup", "rbac.authorization.k8s.io"},
                                       {"kind", "User"},
                                       {"name", *s.readonly_user}}})}});
    }
    return json{
        {"apiVersion", "v1"}, {"kind", "List"}, {"metadata", json::object()}, {"items", std::move(items)}};
}

std::string readonly_token(const CiliumClusterSpec& spec) {
    return spec.readonly_user.value_or("nobody") + "-token";
}

FakekubeOptions fakekube_options(const CiliumClusterSpec& spec, const TempDirectory& dir,
                                 std::chrono::system_clock::time_point now) {
    FakekubeOptions options(spec.context);
    options.seeds.push_back(dir.write(spec.context + ".seed.json", cilium_cluster_seed(spec, now).dump()));
    options.extra_args = {"--service-cidr", spec.service_cidr};
    // Pods get addresses of the cluster's own pod range (a /24 per node, as cluster-pool IPAM hands them out;
    // with ipam=kubernetes the nodes' podCIDRs), so two clusters' pod IPs differ unless their ranges overlap.
    if (const auto slash = spec.pod_cidr.find('/'); spec.enable_ipv4 && slash != std::string::npos &&
                                                    std::atoi(spec.pod_cidr.c_str() + slash + 1) <= 24) {
        options.extra_args.insert(options.extra_args.end(), {"--pod-cidr", spec.pod_cidr});
    }
    // fakekube serves Kubernetes 1.33's APIs; a cluster described as older has no networking.k8s.io/v1
    // ServiceCIDRs (GA in 1.33), so its service range is only where kube-apiserver's flag says.
    int minor = 0;
    if (std::sscanf(spec.kubernetes_version.c_str(), "v1.%d", &minor) == 1 && minor < 33) {
        options.extra_args.insert(options.extra_args.end(),
                                  {"--runtime-config", "networking.k8s.io/v1/servicecidrs=false"});
    }
    if (spec.readonly_user) {
        options.token_file = dir.write(
            spec.context + ".tokens", fmt::format("{},{},2001\n", readonly_token(spec), *spec.readonly_user));
    }
    return options;
}

util::Result<nlohmann::json> fakekube_stats(const FakekubeProcess& server) {
    auto config = server.rest_config();
    if (!config) {
        return std::unexpected(config.error());
    }
    auto client = kube::Client::from_config(std::move(*config));
    if (!client) {
        return std::unexpected(client.error());
    }
    kube::Request request;
    request.path = "/fakekube/stats";
    auto response = client->send(request);
    if (!response) {
        return std::unexpected(response.error());
    }
    auto doc = json::parse(response->body, nullptr, false);
    if (response->status != 200 || doc.is_discarded() || !doc.contains("requests")) {
        return util::fail(util::ErrorKind::parse,
                          "GET /fakekube/stats: " + std::to_string(response->status) + " " + response->body);
    }
    return doc["requests"];
}

std::filesystem::path write_readonly_kubeconfig(const CiliumClusterSpec& spec, const FakekubeProcess& server,
                                                const TempDirectory& dir) {
    auto ca = server.ca_pem();
    if (!ca) {
        throw std::runtime_error("fakekube CA: " + ca.error().message);
    }
    const std::string user = spec.readonly_user.value_or("nobody");
    const std::string text = fmt::format(
        "apiVersion: v1\nkind: Config\ncurrent-context: {0}\n"
        "clusters:\n- name: {0}\n  cluster:\n    server: {1}\n    certificate-authority-data: {2}\n"
        "users:\n- name: {3}@{0}\n  user:\n    token: {4}\n"
        "contexts:\n- name: {0}\n  context:\n    cluster: {0}\n    user: {3}@{0}\n",
        spec.context, server.url(), util::base64_encode(*ca), user, readonly_token(spec));
    return dir.write(spec.context + ".readonly.kubeconfig", text);
}

} // namespace meshlink::test
