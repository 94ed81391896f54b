#pragma once
// The API logic of fakekube, independent of the transport: routing of REST paths to resources,
// authorization, storage semantics (create/get/list/watch/update/patch/delete, status subresource,
// dryRun, generateName, preconditions), validation, Service allocation, the small controllers, seeds.
// Thread-safe: one lock around every call.

#include "tests/fakekube/allocators.hpp"
#include "tests/fakekube/http.hpp"
#include "tests/fakekube/scripting.hpp"
#include "tests/fakekube/selectors.hpp"
#include "tests/fakekube/status.hpp"
#include "tests/fakekube/store.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace meshlink::fakekube {

struct ServerConfig {
    std::string service_cidr = "10.96.0.0/12";
    std::string pod_cidr = "10.244.0.0/16"; // Pod IPs: a /24 of it per Node (allocators.hpp)
    // How long the built-in controllers wait before they mark workloads ready, pods running and
    // finish a namespace deletion.
    std::chrono::milliseconds controller_delay{200};
    bool rbac = false;
    std::string server_address = "127.0.0.1:6443"; // host:port clients reach us at
    std::string ca_pem;                            // published as kube-root-ca.crt in every namespace
};

// A watch the transport streams: `initial` lines first, then whatever poll_watch returns.
struct WatchPlan {
    const ResourceInfo* resource = nullptr;
    std::string ns;
    LabelSelector labels;
    FieldSelector fields;
    uint64_t start_revision = 0;
    std::vector<std::string> initial; // serialized watch events, one JSON document each
    std::chrono::seconds timeout{1800};
    bool finished = false; // nothing to stream after `initial` (e.g. 410 Expired)
};

// An exec the transport runs over WebSocket: the scripted answer (scripting.hpp) to one command.
struct ExecPlan {
    std::string stdout_text;
    std::string stderr_text;
    int exit_code = 0;
    bool want_stdin = false;
    bool want_stdout = true;
    bool want_stderr = true;
    bool echo_stdin = false; // stdout is what the client sent on stdin (a scripted `cat`)
    std::vector<std::string> command;
};

using Outcome = std::variant<Response, WatchPlan, ExecPlan>;

struct WatchPoll {
    std::vector<std::string> lines;
    uint64_t revision = 0;
    bool expired = false;
};

// How /fakekube/stats counts a request: GET, LIST (GET on a collection), WATCH, POST, PUT, PATCH, DELETE.
std::string request_class(const Request& request);

class ApiServer {
public:
    static util::Result<std::unique_ptr<ApiServer>> create(ServerConfig config);

    Outcome handle(const Request& request);
    // Events for `plan` after `after`, serialized; `revision` is where the next poll continues.
    WatchPoll poll_watch(const WatchPlan& plan, uint64_t after);
    // One pass of the built-in controllers (deployments, replicasets, daemonsets, jobs, pods, disruption
    // budgets, service CIDRs, namespace deletion, garbage collection).
    void run_controllers();
    // The test-facing control endpoints under /fakekube/v1/ (tests/fakekube/README.md, "Scripting pods and
    // nodes"): readiness of nodes and pods, container exits, log text, pod rules.
    Response control(const Request& request);
    // The identity of a ServiceAccount token this server issued (TokenRequest): nullopt when it is unknown,
    // expired, not for the API server's audience, or names a ServiceAccount or Pod that is gone (or
    // recreated), as kube-apiserver's ServiceAccount authenticator checks.
    std::optional<Identity> authenticate_token(const std::string& token);
    // Loads one seed object as is (status included); namespaces it needs are created.
    util::Result<> load_seed(json object, const std::string& origin);
    // Where a NodePort Service that targets the API server would answer: (Node InternalIP, nodePort) for
    // every NodePort/LoadBalancer Service selecting component=kube-apiserver, or selector-less with an
    // EndpointSlice (kubernetes.io/service-name) of its own. The transport serves the API there too (loopback
    // IPs only).
    std::vector<std::pair<std::string, uint16_t>> apiserver_node_ports();

    // Request attributes of one resource call, shared by the handlers.
    struct Call {
        const Request& request;
        const ResourceInfo& resource;
        std::string ns;
        std::string name;
        std::string subresource;
        bool dry_run = false;
    };

private:
    ApiServer(ServerConfig config, ClusterIpAllocator cluster_ips, PodIpAllocator pod_ips);

    std::mutex m_mutex;
    ServerConfig m_config;
    Store m_store;
    ClusterIpAllocator m_cluster_ips;
    NodePortAllocator m_node_ports;
    PodIpAllocator m_pod_ips;
    std::vector<script::PodRule> m_pod_rules;                               // POST /fakekube/v1/pod-rules
    std::map<std::string, std::chrono::steady_clock::time_point> m_pending; // controller work by key
    uint64_t m_seen_revision = 0;              // store events the controllers have looked at
    std::set<std::string> m_deleted_uids;      // owners gone while fakekube ran: their dependents are garbage
    bool m_collect = false;                    // the garbage collector has work
    std::set<std::string> m_budget_namespaces; // namespaces whose disruption budgets need recomputing
    json m_execs = json::array();              // exec calls, for GET /fakekube/v1/execs
    // Every write request that reached a resource (create, update, patch, delete, eviction), for GET
    // /fakekube/v1/writes: what a test needs to prove the order of writes from several clients.
    static constexpr size_t k_write_log = 20000;
    std::deque<json> m_writes;
    uint64_t m_write_seq = 0;
    uint64_t m_writes_dropped = 0;
    // ServiceAccount tokens issued by TokenRequest (service_account_tokens.cpp), by token.
    struct IssuedToken {
        std::string ns;
        std::string service_account;
        std::string service_account_uid;
        std::string pod;     // bound Pod, "" when unbound
        std::string pod_uid; //
        std::string node;    // the bound Pod's spec.nodeName at issue time, "" when unscheduled
        std::string node_uid;
        std::string credential_id;
        std::vector<std::string> audiences;
        std::chrono::system_clock::time_point expires;
    };
    std::map<std::string, IssuedToken> m_tokens;
    std::set<std::string> m_seeded_workloads; // uids of workloads from seeds: status only, no Pods

    Outcome dispatch(const Request& request);
    Outcome resource_request(const Request& request, const Call& call);
    void record_write(const Call& call, const std::string& verb, const Response& response, json before);

    Response get(const Call& call);
    Response list(const Call& call);
    Outcome watch(const Call& call);
    Response pod_log(const Call& call);
    Outcome exec(const Call& call);

    Response create(const Call& call);
    Response update(const Call& call);
    Response patch(const Call& call);
    Response remove(const Call& call);
    Response remove_collection(const Call& call);
    Response evict(const Call& call);
    Response access_review(const Call& call);
    Response token_request(const Call& call);

    // Shared by update and patch: checks and stores `object` as the new state of `current`.
    Response commit_update(const Call& call, json object, const json& current,
                           std::vector<std::string> warnings);
    // Assigns ClusterIP and NodePorts (or checks the requested ones); releases them again on dry runs.
    std::optional<ApiError> allocate_service(json& object, const json* old, bool dry_run);
    void release_service(const json& object);
    // Side effects of a stored create: default ServiceAccount and kube-root-ca.crt in a new namespace,
    // controller work for workloads and pods.
    void after_create(const ResourceInfo& resource, const json& object);
    void schedule(const ResourceInfo& resource, const json& object);
    json delete_now(const ResourceInfo& resource, const std::string& ns, const std::string& name);
    // DELETE with a propagation policy ("Background", "Foreground", "Orphan"; "" = the resource's default):
    // removes the object now, or marks it deleting while finalizers (its own, foregroundDeletion, orphan)
    // remain. Returns the object and whether it is gone.
    std::pair<json, bool> delete_object(const ResourceInfo& resource, const std::string& ns,
                                        const std::string& name, std::string propagation);
    void bootstrap();

    // Controllers (controllers.cpp, collector.cpp).
    void observe_events();
    void sync(const ResourceInfo& resource, const std::string& ns, const std::string& name);
    void sync_deployment(json deployment);
    void sync_replicaset(json replicaset);
    void sync_job(json job);
    void sync_pod(json pod);
    void sync_daemonset(json daemonset);
    void sync_seeded_workload(const ResourceInfo& resource, json workload);
    void sync_namespace(json ns);
    void sync_service_cidr(json cidr);
    void sync_budgets(const std::string& ns);
    void collect_garbage();
    void sync_now(const ResourceInfo& resource, const json& object);
    void sync_later(const ResourceInfo& resource, const json& object);
    // Pods whose controller is `owner` (by uid), deleting ones included.
    std::vector<json> owned_pods(const json& owner);
    const json& create_owned(const ResourceInfo& resource, json object);
    // Adds the annotations of every matching pod rule to a Pod about to be created (kept where set).
    void apply_pod_rules(json& pod) const;
    Response pod_rules_control(const Request& request);
    // The disruption controller's view of one budget: status fields computed from the pods.
    json budget_status(const json& pdb);
};

} // namespace meshlink::fakekube
