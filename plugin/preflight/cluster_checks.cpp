// cluster.*: what each cluster must have before it can join a mesh (docs/cilium-clustermesh.md, "What
// preflight reads").

#include "plugin/defaults.hpp"
#include "plugin/preflight/checks.hpp"

#include <fmt/format.h>

#include <charconv>

namespace meshlink::plugin::preflight {
namespace {

Check make(std::string_view id, const ClusterFacts& facts) {
    return Check{std::string(id), Scope::cluster, facts.context, Status::unknown, {}, {}, std::nullopt};
}

std::string object_name(std::string_view kind, std::string_view name) {
    return fmt::format("{} {}/{}", kind, defaults::k_cilium_namespace, name);
}

std::string describe_rule(const defaults::AccessRule& rule) {
    std::string resource(rule.resource);
    if (!rule.subresource.empty()) {
        resource += "/" + std::string(rule.subresource);
    }
    if (!rule.group.empty()) {
        resource += "." + std::string(rule.group);
    }
    return rule.namespace_name.empty() ? fmt::format("{} {}", rule.verb, resource)
                                       : fmt::format("{} {} in {}", rule.verb, resource, rule.namespace_name);
}

// The cilium-config reading, or the reason it cannot be judged (set on `check`); nullptr then.
const CiliumConfig* config_or_unknown(const ClusterFacts& facts, Check& check) {
    if (!facts.config) {
        check.message = "not checked: cilium-config was not read";
        return nullptr;
    }
    if (!facts.config->has_value()) {
        check.message = "cilium-config unreadable: " + facts.config->error().message;
        return nullptr;
    }
    if (!facts.config->value()) {
        check.message = "not checked: no " + object_name("ConfigMap", defaults::k_cilium_config) + " (see " +
                        std::string(check_id::cilium_installed) + ")";
        return nullptr;
    }
    return &*facts.config->value();
}

std::optional<long long> number(std::string_view text) {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

Check api_reachable(const ClusterFacts& facts) {
    Check check = make(check_id::api_reachable, facts);
    const std::string server = facts.kubeconfig ? facts.kubeconfig->server : std::string();
    if (!facts.version) {
        check.status = Status::fail;
        check.message = facts.connect_error.empty() ? "no client for this context" : facts.connect_error;
        check.hint = "fix the kubeconfig entry (see kubeconfig.context.exists)";
        return check;
    }
    if (!facts.version->has_value()) {
        const auto& error = facts.version->error();
        check.status = Status::fail;
        check.message = error.message;
        switch (error.kind) {
        case util::ErrorKind::unauthorized:
            check.hint = "the server refused the credentials: log in again or refresh the token";
            break;
        case util::ErrorKind::tls:
            check.hint = "check the cluster's certificate-authority and tls-server-name in the kubeconfig";
            break;
        default:
            check.hint =
                fmt::format("is {} up and reachable from this machine? (`kubectl --context {} version`)",
                            server.empty() ? std::string("the API server") : server, facts.context);
            break;
        }
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("Kubernetes {} answers at {}", facts.version->value().git_version, server);
    return check;
}

Check rbac(const ClusterFacts& facts) {
    Check check = make(check_id::rbac_sufficient, facts);
    if (!facts.access) {
        check.message = "not checked: the API server did not answer";
        return check;
    }
    if (!facts.access->has_value()) {
        check.message = "SelfSubjectAccessReview failed: " + facts.access->error().message;
        return check;
    }
    const auto& report = facts.access->value();
    if (report.denied.empty()) {
        check.status = Status::pass;
        check.message = fmt::format("all {} permissions join needs are granted", report.asked);
        return check;
    }
    std::string denied;
    for (const auto& rule : report.denied) {
        denied += (denied.empty() ? "" : ", ") + describe_rule(rule);
    }
    check.status = Status::fail;
    check.message = fmt::format("{} of {} permissions join needs are denied: {}", report.denied.size(),
                                report.asked, denied);
    check.hint =
        fmt::format("bind the user to a role granting them (or use an admin context); `kubectl --context {} "
                    "auth can-i --list -n {}` shows what it may do",
                    facts.context, defaults::k_cilium_namespace);
    return check;
}

Check cilium_installed(const ClusterFacts& facts) {
    Check check = make(check_id::cilium_installed, facts);
    if (!facts.cilium) {
        check.message = "not checked: the API server did not answer";
        return check;
    }
    if (!facts.cilium->has_value()) {
        check.message = object_name("DaemonSet", defaults::k_cilium_daemonset) +
                        " unreadable: " + facts.cilium->error().message;
        return check;
    }
    const auto& ds = facts.cilium->value();
    const std::string install_hint = fmt::format(
        "install Cilium with Helm first: helm install cilium cilium/cilium -n {} --set cluster.name=NAME "
        "--set cluster.id=ID",
        defaults::k_cilium_namespace);
    if (!ds) {
        check.status = Status::fail;
        check.message =
            object_name("DaemonSet", defaults::k_cilium_daemonset) + " not found: Cilium is not installed";
        check.hint = install_hint;
        return check;
    }
    if (facts.config && facts.config->has_value() && !facts.config->value()) {
        check.status = Status::fail;
        check.message = object_name("ConfigMap", defaults::k_cilium_config) + " not found";
        check.hint = install_hint;
        return check;
    }
    const std::string version =
        ds->version_text.empty() ? std::string("of unknown version") : ds->version_text;
    const std::string agents = fmt::format("{} of {} agents ready", ds->ready, ds->desired);
    if (ds->desired == 0 || ds->ready == 0) {
        check.status = Status::fail;
        check.message = fmt::format("Cilium {} is not running: {}", version, agents);
        check.hint = fmt::format("kubectl --context {} -n {} get pods -l k8s-app=cilium", facts.context,
                                 defaults::k_cilium_namespace);
        return check;
    }
    if (ds->ready < ds->desired) {
        check.status = Status::warn;
        check.message = fmt::format("Cilium {}: only {}", version, agents);
        check.hint = fmt::format("kubectl --context {} -n {} get pods -l k8s-app=cilium", facts.context,
                                 defaults::k_cilium_namespace);
        return check;
    }
    if (!ds->version) {
        check.status = Status::warn;
        check.message =
            fmt::format("Cilium running ({}), but its version cannot be read from image \"{}\"; node "
                        "reports are judged for {}",
                        agents, ds->image, facts.node_cilium_source);
        check.hint = "pass --cilium-version X.Y to judge nodes for the release you run";
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("Cilium {}, {} ({})", version, agents, ds->image);
    return check;
}

Check cluster_name(const ClusterFacts& facts) {
    Check check = make(check_id::cluster_name, facts);
    const CiliumConfig* config = config_or_unknown(facts, check);
    if (config == nullptr) {
        return check;
    }
    auto it = config->find("cluster-name");
    const std::string name = it == config->end() ? std::string() : it->second;
    if (auto problem = cluster_name_problem(name); !problem.empty()) {
        check.status = Status::fail;
        check.message = it == config->end() ? "cluster-name is not set (Cilium then uses \"default\")"
                                            : fmt::format("cluster-name \"{}\" {}", name, problem);
        check.hint =
            "give every cluster a unique name: " + helm_set("cluster.name=NAME") +
            ", then restart the Cilium agents and operator (and workloads, which keep the old identity)";
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("cluster-name \"{}\"", name);
    return check;
}

Check cluster_id(const ClusterFacts& facts) {
    Check check = make(check_id::cluster_id, facts);
    const CiliumConfig* config = config_or_unknown(facts, check);
    if (config == nullptr) {
        return check;
    }
    const std::string hint = "give every cluster a unique ID: " + helm_set("cluster.id=ID") +
                             ", then restart the Cilium agents and operator (and workloads)";
    const auto get = [&](std::string_view key) {
        auto it = config->find(key);
        return it == config->end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
    };
    const auto max_text = get("max-connected-clusters");
    const auto max = max_text ? number(*max_text)
                              : std::optional<long long>(defaults::k_cilium_default_max_connected_clusters);
    if (!max || (*max != 255 && *max != 511)) {
        check.status = Status::fail;
        check.message = fmt::format("max-connected-clusters \"{}\" is invalid: Cilium accepts 255 or 511",
                                    max_text.value_or(""));
        check.hint = "set clustermesh.maxConnectedClusters to 255 (or 511) in Cilium's Helm values";
        return check;
    }
    const auto id_text = get("cluster-id");
    const auto id = id_text ? number(*id_text) : std::nullopt;
    if (!id_text || id_text->empty()) {
        check.status = Status::fail;
        check.message = "cluster-id is not set (Cilium then uses 0, which is reserved)";
        check.hint = hint;
        return check;
    }
    if (!id) {
        check.status = Status::fail;
        check.message = fmt::format("cluster-id \"{}\" is not a number", *id_text);
        check.hint = hint;
        return check;
    }
    if (*id < 1 || *id > *max) {
        check.status = Status::fail;
        check.message =
            *id == 0 ? "cluster-id 0 is reserved for clusters outside a mesh"
                     : fmt::format("cluster-id {} is outside 1..{} (max-connected-clusters)", *id, *max);
        check.hint = hint;
        return check;
    }
    // Cilium refuses the top 128 IDs (128-255, or 384-511) with ENI or AlibabaCloud IPAM and with aws-cni
    // chaining (#21330).
    const std::string ipam = get("ipam").value_or("");
    const std::string chaining = get("cni-chaining-mode").value_or("");
    const long long first_refused = *max - 127;
    if ((ipam == "eni" || ipam == "alibabacloud" || chaining == "aws-cni") && *id >= first_refused) {
        check.status = Status::fail;
        check.message =
            fmt::format("cluster-id {} is in {}..{}, which Cilium refuses with {}", *id, first_refused, *max,
                        chaining == "aws-cni" ? std::string("aws-cni chaining") : "IPAM " + ipam);
        check.hint = fmt::format("use an ID in 1..{}: ", first_refused - 1) + helm_set("cluster.id=ID");
        return check;
    }
    check.status = Status::pass;
    check.message = fmt::format("cluster-id {} (1..{})", *id, *max);
    return check;
}

Check identity_mode(const ClusterFacts& facts) {
    Check check = make(check_id::identity_mode, facts);
    const CiliumConfig* config = config_or_unknown(facts, check);
    if (config == nullptr) {
        return check;
    }
    auto it = config->find("identity-allocation-mode");
    if (it == config->end() || it->second == "crd") {
        check.status = Status::pass;
        check.message = it == config->end() ? "identity-allocation-mode crd (Cilium's default)"
                                            : "identity-allocation-mode crd";
        return check;
    }
    check.status = Status::fail;
    check.message =
        fmt::format("identity-allocation-mode \"{}\": the clustermesh-apiserver serves identities only "
                    "in crd mode (with an external kvstore, peers connect to that etcd directly)",
                    it->second);
    check.hint =
        "migrate identities to CRDs (identityAllocationMode=crd), or connect the clusters through the "
        "external etcd by hand";
    return check;
}

Check clustermesh_apiserver(const ClusterFacts& facts) {
    Check check = make(check_id::clustermesh_apiserver, facts);
    if (!facts.clustermesh) {
        check.message = "not checked: the API server did not answer";
        return check;
    }
    const std::string name = object_name("Service", defaults::k_clustermesh_apiserver);
    if (!facts.clustermesh->has_value()) {
        check.message = name + " unreadable: " + facts.clustermesh->error().message;
        return check;
    }
    const auto& svc = facts.clustermesh->value();
    if (!svc) {
        check.status = Status::warn;
        check.message = name + " not found: ClusterMesh is not enabled yet; join enables it";
        return check;
    }
    if (svc->type == "NodePort") {
        check.status = svc->node_port ? Status::pass : Status::warn;
        check.message = svc->node_port
                            ? fmt::format("{}: NodePort {} (port {})", name, *svc->node_port, svc->port)
                            : fmt::format("{}: NodePort without an allocated node port", name);
        return check;
    }
    if (svc->type == "LoadBalancer") {
        if (svc->ingress.empty()) {
            check.status = Status::warn;
            check.message = fmt::format("{}: LoadBalancer without an address yet", name);
            check.hint =
                fmt::format("kubectl --context {} -n {} get service {}: the cloud's load balancer may still "
                            "be provisioning, or no controller serves this cluster",
                            facts.context, defaults::k_cilium_namespace, defaults::k_clustermesh_apiserver);
            return check;
        }
        check.status = Status::pass;
        check.message =
            fmt::format("{}: LoadBalancer {} port {}", name, fmt::join(svc->ingress, ", "), svc->port);
        return check;
    }
    check.status = Status::warn;
    check.message = fmt::format("{}: type {} is not reachable from other clusters", name, svc->type);
    check.hint = "use clustermesh.apiserver.service.type=NodePort or LoadBalancer";
    return check;
}

} // namespace

std::string cluster_name_problem(std::string_view name) {
    if (name.empty()) {
        return "is empty";
    }
    if (name == defaults::k_cilium_reserved_cluster_name) {
        return "is Cilium's default, which a mesh does not allow";
    }
    if (name.size() > defaults::k_cilium_cluster_name_max_length) {
        return fmt::format("is {} characters long (at most {})", name.size(),
                           defaults::k_cilium_cluster_name_max_length);
    }
    // ^([a-z0-9][-a-z0-9]*)?[a-z0-9]$
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    for (char c : name) {
        if (!alnum(c) && c != '-') {
            return "may contain only lower-case letters, digits and '-'";
        }
    }
    if (!alnum(name.front()) || !alnum(name.back())) {
        return "must start and end with a lower-case letter or digit";
    }
    return {};
}

std::vector<Check> cluster_checks(const ClusterFacts& facts) {
    std::vector<Check> out{api_reachable(facts),        rbac(facts),       cilium_installed(facts),
                           cluster_name(facts),         cluster_id(facts), identity_mode(facts),
                           clustermesh_apiserver(facts)};
    if (!facts.reachable()) {
        for (std::size_t i = 1; i < out.size(); ++i) {
            out[i].status = Status::unknown;
            out[i].message = "not checked: the API server did not answer";
            out[i].hint.clear();
        }
    }
    return out;
}

std::string helm_set(std::string_view value) {
    return fmt::format("helm upgrade cilium cilium/cilium -n {} --reuse-values --set {}",
                       defaults::k_cilium_namespace, value);
}

} // namespace meshlink::plugin::preflight
