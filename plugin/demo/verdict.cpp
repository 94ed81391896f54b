#include "plugin/demo/verdict.hpp"

#include "plugin/defaults.hpp"
#include "plugin/mesh/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace meshlink::plugin::demo {
namespace {

namespace df = defaults;
using mesh::annotation;
using mesh::child;
using mesh::text;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// The first of the two annotations that is set (Cilium reads the new key and its legacy alias).
std::optional<std::string> either(const json& object, std::string_view key, std::string_view legacy) {
    const json& annotations = child(child(object, "metadata"), "annotations");
    for (std::string_view k : {key, legacy}) {
        if (child(annotations, k).is_string()) {
            return child(annotations, k).get<std::string>();
        }
    }
    return std::nullopt;
}

bool at_least(const std::string& version, std::string_view minimum) {
    int major = 0;
    int minor = 0;
    int want_major = 0;
    int want_minor = 0;
    if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) != 2 ||
        std::sscanf(std::string(minimum).c_str(), "%d.%d", &want_major, &want_minor) != 2) {
        return true; // unknown: assume the newer rules
    }
    return major > want_major || (major == want_major && minor >= want_minor);
}

std::string config(const ClusterFacts& c, std::string_view key) {
    auto it = c.cilium_config.find(std::string(key));
    return it == c.cilium_config.end() ? std::string() : it->second;
}

json ports_of(const json& service) {
    json out = json::array();
    for (const auto& port :
         child(child(service, "spec"), "ports").is_array() ? service["spec"]["ports"] : json::array()) {
        out.push_back({{"port", child(port, "port")},
                       {"protocol", text(port, "protocol").empty() ? "TCP" : text(port, "protocol")}});
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : std::string(separator)) + item;
    }
    return out;
}

Finding finding(std::string id, const ClusterFacts& c, bool pass, std::string message) {
    return {std::move(id), c.name, pass ? "pass" : "fail", std::move(message)};
}

const ClusterFacts* find_cluster(const std::vector<ClusterFacts>& clusters, const std::string& name) {
    for (const auto& c : clusters) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

} // namespace

bool service_global(const json& service) {
    auto value = either(service, df::k_global_service_annotation, df::k_global_service_legacy_annotation);
    return value && lower(*value) == "true";
}

bool service_shared(const json& service) {
    auto value = either(service, df::k_shared_service_annotation, df::k_shared_service_legacy_annotation);
    return !value || lower(*value) == "true"; // absent: shared
}

std::optional<std::string> missing_demo(const std::vector<ClusterFacts>& clusters, const std::string& ns) {
    std::vector<std::string> missing;
    for (const auto& c : clusters) {
        std::vector<std::string> what;
        if (!c.ns) {
            what.push_back("namespace " + ns);
        } else {
            if (!c.service) {
                what.push_back(fmt::format("Service {}/{}", ns, df::k_demo_service));
            }
            if (!c.server) {
                what.push_back(fmt::format("Deployment {}/{}", ns, df::k_demo_server));
            }
        }
        if (!what.empty()) {
            missing.push_back(fmt::format("{} (no {})", c.name, join(what)));
        }
    }
    if (missing.empty()) {
        return std::nullopt;
    }
    return fmt::format("the demo is not deployed in {}: run `kubectl meshlink demo deploy` first",
                       join(missing));
}

std::vector<Finding> check_clusters(const std::vector<ClusterFacts>& clusters) {
    std::vector<Finding> out;
    const json reference_ports =
        clusters.empty() || !clusters.front().service ? json() : ports_of(*clusters.front().service);
    for (const auto& c : clusters) {
        // The namespace rule (Cilium 1.19+).
        if (c.ns) {
            if (!at_least(c.cilium_version, df::k_global_namespace_since)) {
                out.push_back(finding(
                    "demo.namespace.global", c, true,
                    fmt::format("Cilium {} shares global Services from every namespace (the namespace "
                                "rule came with {})",
                                c.cilium_version, df::k_global_namespace_since)));
            } else {
                const std::string value = annotation(*c.ns, df::k_global_namespace_annotation);
                const std::string fallback = config(c, df::k_default_global_namespace_key);
                const bool global =
                    !value.empty() ? lower(value) == "true" : fallback.empty() || lower(fallback) == "true";
                out.push_back(finding(
                    "demo.namespace.global", c, global,
                    global
                        ? fmt::format(
                              "namespace {} is global ({}={})", text(child(*c.ns, "metadata"), "name"),
                              value.empty() ? std::string(df::k_default_global_namespace_key)
                                            : std::string(df::k_global_namespace_annotation),
                              value.empty() ? (fallback.empty() ? "true (default)" : fallback) : value)
                        : fmt::format(
                              "namespace {} is not global in {} ({}=\"{}\", cilium-config {}=\"{}\"): Cilium "
                              "shares no Service from it; annotate it {}=\"true\" (demo deploy does)",
                              text(child(*c.ns, "metadata"), "name"), c.name,
                              df::k_global_namespace_annotation, value, df::k_default_global_namespace_key,
                              fallback, df::k_global_namespace_annotation)));
            }
        }
        if (c.service) {
            const bool global = service_global(*c.service);
            auto value =
                either(*c.service, df::k_global_service_annotation, df::k_global_service_legacy_annotation);
            out.push_back(finding(
                "demo.service.global", c, global,
                global ? fmt::format("Service {} is annotated {}: \"true\"", df::k_demo_service,
                                     df::k_global_service_annotation)
                       : fmt::format(
                             "Service {} in {} is not global ({} {}): a Service is global only when every "
                             "cluster annotates it, so both sides use local backends only; annotate it "
                             "{}=\"true\"",
                             df::k_demo_service, c.name, df::k_global_service_annotation,
                             value ? fmt::format("is \"{}\"", *value) : std::string("is missing"),
                             df::k_global_service_annotation)));
            auto shared =
                either(*c.service, df::k_shared_service_annotation, df::k_shared_service_legacy_annotation);
            out.push_back(finding(
                "demo.service.shared", c, service_shared(*c.service),
                service_shared(*c.service)
                    ? fmt::format("{}'s rebel-base backends are shared with the other clusters", c.name)
                    : fmt::format("Service {} in {} has {}: \"{}\": its backends are not shared, so the "
                                  "other clusters get no replies from {}; remove the annotation",
                                  df::k_demo_service, c.name, df::k_shared_service_annotation, *shared,
                                  c.name)));
            const std::string affinity = lower(either(*c.service, df::k_service_affinity_annotation,
                                                      df::k_service_affinity_legacy_annotation)
                                                   .value_or(""));
            const bool affinity_ok = affinity.empty() || affinity == "none" || affinity == "remote";
            out.push_back(finding(
                "demo.service.affinity", c, affinity_ok,
                affinity_ok ? fmt::format("affinity {}", affinity.empty() ? "none" : affinity)
                : affinity == "local"
                    ? fmt::format(
                          "Service {} in {} has {}: local: {} prefers its own backends while they are "
                          "healthy, so it gets no remote replies; remove the annotation",
                          df::k_demo_service, c.name, df::k_service_affinity_annotation, c.name)
                    : fmt::format("Service {} in {} has an invalid {}: \"{}\" (none, local or remote)",
                                  df::k_demo_service, c.name, df::k_service_affinity_annotation, affinity)));
            const json ports = ports_of(*c.service);
            out.push_back(
                finding("demo.service.ports", c, ports == reference_ports,
                        ports == reference_ports
                            ? fmt::format("ports {}", ports.dump())
                            : fmt::format("Service {} in {} has ports {}, {} has {}: keep them identical",
                                          df::k_demo_service, c.name, ports.dump(), clusters.front().name,
                                          reference_ports.dump())));
        }
        out.push_back(
            finding("demo.server.ready", c, !c.pod_ips.empty(),
                    c.pod_ips.empty()
                        ? fmt::format("{} has no Ready rebel-base Pod: nothing there can answer", c.name)
                        : fmt::format("{} Ready rebel-base Pods: {}", c.pod_ips.size(), join(c.pod_ips))));
        if (!c.agents || !c.agents->error.empty()) {
            out.push_back({"demo.mesh.connected", c.name, "unknown",
                           "could not ask the Cilium agents: " +
                               (c.agents ? c.agents->error : std::string("not asked"))});
        } else {
            std::vector<std::string> lacking;
            for (const auto& peer : clusters) {
                if (peer.name == c.name) {
                    continue;
                }
                const auto it = c.agents->ready.find(peer.name);
                const int ready = it == c.agents->ready.end() ? 0 : it->second;
                if (ready < c.agents->total || c.agents->total == 0) {
                    lacking.push_back(
                        fmt::format("{}/{} agents report {} ready", ready, c.agents->total, peer.name));
                }
            }
            out.push_back(
                finding("demo.mesh.connected", c, lacking.empty(),
                        lacking.empty()
                            ? fmt::format("all {} agents report every peer ready", c.agents->total)
                            : fmt::format("{}: {}; see `kubectl meshlink status`", c.name, join(lacking))));
        }
        if (!c.agents || !c.agents->backends) {
            out.push_back({"demo.backends.known", c.name, "unknown",
                           "the agents' `cilium-dbg service list -o json` could not be read"});
        } else {
            std::vector<std::string> lacking;
            for (const auto& peer : clusters) {
                if (peer.name == c.name || peer.pod_ips.empty()) {
                    continue;
                }
                const auto it = c.agents->backends->find(peer.name);
                const int known = it == c.agents->backends->end() ? 0 : it->second;
                if (known < c.agents->total) {
                    lacking.push_back(fmt::format("{}/{} agents list {}'s rebel-base Pods", known,
                                                  c.agents->total, peer.name));
                }
            }
            out.push_back(finding("demo.backends.known", c, lacking.empty(),
                                  lacking.empty() ? "every agent lists the remote rebel-base Pods as backends"
                                                  : fmt::format("{}: {} as backends of the global Service",
                                                                c.name, join(lacking))));
        }
    }
    return out;
}

std::string datapath_hint(const ClusterFacts& a, const ClusterFacts& b) {
    std::vector<std::string> paths;
    std::set<std::string> seen;
    for (const ClusterFacts* c : {&a, &b}) {
        std::string mode = lower(config(*c, "routing-mode"));
        const std::string legacy = lower(config(*c, "tunnel"));
        if (mode.empty()) {
            mode = legacy == "disabled" ? "native" : "tunnel";
        }
        std::string protocol = lower(config(*c, "tunnel-protocol"));
        if (protocol.empty()) {
            protocol = legacy == "geneve" ? "geneve" : "vxlan";
        }
        std::string path;
        if (mode == "native") {
            path = fmt::format(
                "{} routes natively: the network must route the other cluster's pod CIDR to its nodes",
                c->name);
        } else {
            path = fmt::format("{}/udp ({} tunnel of {})",
                               protocol == "geneve" ? df::k_geneve_port : df::k_vxlan_port,
                               protocol == "geneve" ? "Geneve" : "VXLAN", c->name);
        }
        if (lower(config(*c, "enable-wireguard")) == "true") {
            path += fmt::format(", {}/udp (WireGuard)", df::k_wireguard_port);
        }
        if (lower(config(*c, "enable-ipsec")) == "true") {
            path += ", ESP (IP protocol 50, IPsec)";
        }
        if (seen.insert(path).second) {
            paths.push_back(path);
        }
    }
    return fmt::format(
        "open between every node of {} and {}: {}; also {}/tcp and ICMP (cilium-health). Then check "
        "the MTU and that both sides use the same encryption; `cilium-health status` on an agent "
        "tells the node path from the pod path",
        a.name, b.name, join(paths, "; "), df::k_health_port);
}

DirectionResult judge(const DirectionInput& input, const std::vector<ClusterFacts>& clusters,
                      const std::vector<Finding>& findings) {
    DirectionResult out;
    out.from = input.from;
    out.job = input.job;
    const ClusterFacts* local = find_cluster(clusters, input.from);
    if (!input.run || local == nullptr) {
        out.causes.push_back({"job", input.failure, ""});
        return out;
    }
    out.ran = true;
    out.complete = input.run->complete;
    out.attempts = static_cast<int>(input.run->attempts.size());
    std::map<std::string, std::string> owner; // pod IP -> cluster
    for (const auto& c : clusters) {
        if (c.name == local->name) {
            continue;
        }
        for (const auto& ip : c.pod_ips) {
            owner[ip] = c.name;
            PodResult pod;
            pod.ip = ip;
            pod.owner = c.name;
            out.pods.push_back(std::move(pod));
        }
    }
    for (const auto& attempt : input.run->attempts) {
        const std::string who = attempt.cluster.empty() ? "?" : attempt.cluster;
        if (attempt.kind == "service") {
            if (attempt.outcome == Outcome::reply) {
                ++out.replies[who];
            } else {
                ++out.errors[std::string(to_string(attempt.outcome))];
            }
            continue;
        }
        auto pod = std::find_if(out.pods.begin(), out.pods.end(),
                                [&](const PodResult& p) { return p.ip == attempt.target; });
        if (pod == out.pods.end()) {
            continue; // not an address we asked for
        }
        ++pod->attempts;
        if (attempt.outcome == Outcome::reply) {
            ++pod->answered_by[who];
        } else {
            ++pod->errors[std::string(to_string(attempt.outcome))];
        }
    }
    for (auto& pod : out.pods) {
        pod.ok = pod.answered_by.contains(pod.owner) && pod.answered_by.size() == 1;
    }
    bool pass = out.complete;
    if (!out.complete) {
        out.causes.push_back(
            {"incomplete",
             fmt::format("the Job in {} stopped before its last request (its deadline, or its log was cut)",
                         local->name),
             "run verify again; with a slow datapath lower --requests"});
    }
    auto failing = [&](const std::string& cluster, std::initializer_list<std::string_view> ids) {
        std::vector<std::string> messages;
        for (const auto& f : findings) {
            if (f.cluster == cluster && f.status == "fail" &&
                std::find(ids.begin(), ids.end(), f.id) != ids.end()) {
                messages.push_back(f.message);
            }
        }
        return messages;
    };
    auto total = [](const std::map<std::string, int>& counts) {
        int n = 0;
        for (const auto& [key, count] : counts) {
            n += count;
        }
        return n;
    };
    const int service_errors = total(out.errors);
    const int service_replies = total(out.replies);
    for (const auto& peer : clusters) {
        if (peer.name == local->name) {
            continue;
        }
        std::vector<const PodResult*> pods;
        for (const auto& pod : out.pods) {
            if (pod.owner == peer.name) {
                pods.push_back(&pod);
            }
        }
        // Remote pod IPs answered by another cluster: the same addresses exist there.
        std::vector<std::string> overlaps;
        std::vector<std::string> silent;
        for (const PodResult* pod : pods) {
            for (const auto& [who, count] : pod->answered_by) {
                if (who != peer.name) {
                    overlaps.push_back(fmt::format("{} (answered by {})", pod->ip, who));
                }
            }
            if (!pod->answered_by.contains(peer.name)) {
                std::vector<std::string> errors;
                for (const auto& [kind, count] : pod->errors) {
                    errors.push_back(fmt::format("{} {}", count, kind));
                }
                silent.push_back(
                    fmt::format("{} ({})", pod->ip, errors.empty() ? "no attempt" : join(errors)));
            }
        }
        if (!overlaps.empty()) {
            pass = false;
            out.causes.push_back(
                {"pod-cidr-overlap",
                 fmt::format(
                     "{}'s pod IPs {} were answered by {}, not {}: the clusters' pod CIDRs overlap, so these "
                     "addresses stay in {}",
                     peer.name, join(overlaps), local->name, peer.name, local->name),
                 "give each cluster its own pod range (cilium-config cluster-pool-ipv4-cidr); `kubectl "
                 "meshlink "
                 "preflight --peer <context>` checks mesh.pod-cidr.overlap"});
        }
        const bool replied = out.replies.contains(peer.name);
        if (!replied || !silent.empty()) {
            pass = false;
        }
        if (!replied) {
            std::vector<std::string> reasons =
                failing(local->name, {"demo.service.global", "demo.service.affinity", "demo.namespace.global",
                                      "demo.mesh.connected", "demo.backends.known", "demo.service.ports"});
            for (const auto& message : failing(peer.name, {"demo.service.global", "demo.service.shared",
                                                           "demo.namespace.global", "demo.server.ready"})) {
                reasons.push_back(message);
            }
            const int dns = out.errors.contains("dns") ? out.errors.at("dns") : 0;
            if (service_errors == 0 || !reasons.empty()) {
                out.causes.push_back(
                    {"control-plane",
                     fmt::format("{} got {} replies through the global Service, none from {}{}: {}'s Service "
                                 "never got "
                                 "{}'s backends",
                                 local->name, service_replies, peer.name,
                                 service_errors == 0 ? " and no errors" : "", local->name, peer.name),
                     reasons.empty() ? fmt::format("no check found why: see `cilium-dbg service list` on "
                                                   "{}'s agents (the backends "
                                                   "of rebel-base) and `kubectl meshlink status`",
                                                   local->name)
                                     : "likely: " + join(reasons, "; ")});
            } else if (dns == service_errors) {
                out.causes.push_back(
                    {"dns",
                     fmt::format("the Service name did not resolve in {} ({} times)", local->name, dns),
                     "check the cluster's DNS (CoreDNS) and that Service rebel-base exists"});
            } else {
                std::vector<std::string> errors;
                for (const auto& [kind, count] : out.errors) {
                    errors.push_back(fmt::format("{} {}", count, kind));
                }
                out.causes.push_back(
                    {"datapath",
                     fmt::format(
                         "{}'s requests to the global Service got no reply from {} ({}): {}'s backends are "
                         "known but unreachable",
                         local->name, peer.name, join(errors), peer.name),
                     datapath_hint(*local, peer)});
            }
        }
        if (!silent.empty()) {
            out.causes.push_back({"datapath",
                                  fmt::format("{}'s rebel-base Pods did not answer from {}: {}", peer.name,
                                              local->name, join(silent)),
                                  datapath_hint(*local, peer)});
        }
    }
    out.pass = pass;
    return out;
}

json to_json(const Finding& finding) {
    return {{"id", finding.id},
            {"cluster", finding.cluster},
            {"status", finding.status},
            {"message", finding.message}};
}

json to_json(const DirectionResult& result) {
    json pods = json::array();
    for (const auto& pod : result.pods) {
        pods.push_back({{"ip", pod.ip},
                        {"cluster", pod.owner},
                        {"attempts", pod.attempts},
                        {"answeredBy", pod.answered_by},
                        {"errors", pod.errors},
                        {"ok", pod.ok}});
    }
    json causes = json::array();
    for (const auto& cause : result.causes) {
        causes.push_back({{"kind", cause.kind},
                          {"message", cause.message},
                          {"hint", cause.hint.empty() ? json() : json(cause.hint)}});
    }
    return {{"from", result.from},
            {"job", result.job.empty() ? json() : json(result.job)},
            {"ran", result.ran},
            {"complete", result.complete},
            {"attempts", result.attempts},
            {"replies", result.replies},
            {"errors", result.errors},
            {"pods", pods},
            {"result", result.pass ? "pass" : "fail"},
            {"causes", causes}};
}

} // namespace meshlink::plugin::demo
