#include "plugin/mesh/step_kubeconfig.hpp"

#include "kube/kubeconfig.hpp"
#include "kube/kubeconfig_write.hpp"
#include "plugin/defaults.hpp"
#include "plugin/kubeconfig/classify.hpp"
#include "plugin/kubeconfig/entries.hpp"
#include "plugin/kubeconfig/merge.hpp"
#include "plugin/mesh/kubeconfig_record.hpp"
#include "util/file.hpp"
#include "util/files.hpp"

#include <fmt/format.h>

#include <cctype>
#include <set>

namespace meshlink::plugin::mesh {
namespace {

namespace kc = plugin::kubeconfig;

// A one-context kubeconfig holding the source's cluster and user, paths made absolute and files inlined.
util::Result<std::string> input_document(const KubeconfigSource& source) {
    auto cluster = kc::flatten(
        kc::absolutize(source.cluster.raw, kc::EntryKind::cluster, source.cluster.origin.parent_path()),
        kc::EntryKind::cluster, "cluster " + source.cluster.name);
    if (!cluster) {
        return std::unexpected(cluster.error());
    }
    auto user =
        kc::flatten(kc::absolutize(source.user.raw, kc::EntryKind::user, source.user.origin.parent_path()),
                    kc::EntryKind::user, "user " + source.user.name);
    if (!user) {
        return std::unexpected(user.error());
    }
    YAML::Node doc = kc::empty_kubeconfig();
    YAML::Node context(YAML::NodeType::Map);
    context["cluster"] = source.cluster.name;
    context["user"] = source.user.name;
    doc["clusters"].push_back(
        kc::make_entry_item(kc::EntryKind::cluster, source.cluster.name, *cluster, doc));
    doc["users"].push_back(kc::make_entry_item(kc::EntryKind::user, source.user.name, *user, doc));
    doc["contexts"].push_back(kc::make_entry_item(kc::EntryKind::context, source.context, context, doc));
    return kc::render_kubeconfig(doc, source.file, kc::Validation::names);
}

// `text` with every "<input>:<line>" replaced by `what`.
std::string name_input(std::string text, const std::string& input, const std::string& what) {
    for (auto at = text.find(input); at != std::string::npos; at = text.find(input, at + what.size())) {
        auto end = at + input.size();
        if (end < text.size() && text[end] == ':') {
            ++end;
            while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) != 0) {
                ++end;
            }
        }
        text.replace(at, end - at, what);
    }
    return text;
}

// A cluster entry and a user entry as kubectl would use them: paths absolute, files inlined. The server (and
// what only names or routes to it) is left out of the cluster: step 3 may change exactly that.
std::optional<std::pair<YAML::Node, YAML::Node>> comparable(const kube::Named<kube::Cluster>& cluster,
                                                            const kube::Named<kube::AuthInfo>& user) {
    auto c = kc::flatten(kc::absolutize(cluster.raw, kc::EntryKind::cluster, cluster.origin.parent_path()),
                         kc::EntryKind::cluster, "cluster " + cluster.name);
    auto u = kc::flatten(kc::absolutize(user.raw, kc::EntryKind::user, user.origin.parent_path()),
                         kc::EntryKind::user, "user " + user.name);
    if (!c || !u || !c->IsMap()) {
        return std::nullopt;
    }
    for (const char* key : {"server", "tls-server-name", "proxy-url"}) {
        c->remove(key);
    }
    return std::make_pair(*c, *u);
}

// The file that defines a context named `name` reaching the same cluster as `source` (same CA and TLS
// settings, same credentials; the server may differ), wherever in the KUBECONFIG list it lives; nullopt when
// there is none. Such entries are the user's own and stay as they are.
std::optional<std::filesystem::path> existing_entries(const kube::Kubeconfig& config, const std::string& name,
                                                      const KubeconfigSource& source) {
    auto context = config.contexts.find(name);
    if (context == config.contexts.end()) {
        return std::nullopt;
    }
    if (source.context == name) {
        return context->second.origin; // the context join reaches the cluster through
    }
    auto cluster = config.clusters.find(context->second.value.cluster);
    auto user = config.users.find(context->second.value.user);
    if (cluster == config.clusters.end() || user == config.users.end()) {
        return std::nullopt;
    }
    const auto theirs = comparable(cluster->second, user->second);
    const auto ours = comparable(source.cluster, source.user);
    if (!theirs || !ours || !kc::same_meaning(theirs->first, ours->first, kc::EntryKind::cluster) ||
        !kc::same_meaning(theirs->second, ours->second, kc::EntryKind::user)) {
        return std::nullopt;
    }
    return context->second.origin;
}

// The pairs of clusters[i] this join connects: it with every other member (join makes a full mesh).
std::set<std::string> pairs_of(const std::vector<Cluster*>& clusters, std::size_t i) {
    std::set<std::string> pairs;
    for (std::size_t j = 0; j < clusters.size(); ++j) {
        if (j != i) {
            pairs.insert(pair_key(clusters[i]->name, clusters[j]->name));
        }
    }
    return pairs;
}

// Merges each cluster's entries into the file kubectl writes new entries to; recorded (write-ahead) on this
// machine, next to that file.
util::Result<void> merge(Session& session, std::vector<Cluster*>& clusters) {
    const kube::LoadingRules& rules = session.options().kubeconfig_rules;
    const auto target = kc::merge_target(rules, std::nullopt);
    auto record = KubeconfigRecord::load(target);
    if (!record) {
        return std::unexpected(record.error());
    }
    // Every file of the KUBECONFIG list, merged as kubectl sees them: the user's entries may live in any.
    auto config = kube::load_kubeconfig(rules);
    if (!config) {
        return std::unexpected(config.error());
    }
    // Every cluster's merge is first tried without writing, so a name taken by another cluster is refused
    // before any entry is written (a dry run's own pass writes nothing anyway).
    for (const bool preview : {true, false}) {
        if (preview && session.dry_run()) {
            continue;
        }
        for (std::size_t i = 0; i < clusters.size(); ++i) {
            Cluster& c = *clusters[i];
            const KubeconfigSource& source = c.source;
            const auto recorded = record->find(c.name);
            // Only this machine's own record allows replacing entries of that name.
            const bool ours = recorded && recorded->state == "applied";
            const EntryDecision decision = decide_entries(*config, c, recorded.has_value());
            if (decision.choice != EntryChoice::write) {
                if (session.dry_run()) {
                    session.plan({c.name, "kubeconfig", "nothing to write: " + decision.why, {}, {}});
                } else if (!preview) {
                    session.say(fmt::format("{}: kubeconfig: {}; nothing written", c.name, decision.why));
                }
                continue;
            }
            auto text = input_document(source);
            if (!text) {
                return std::unexpected(text.error());
            }
            // It carries a flattened client key and token: in memory only, read by the merge through
            // /proc/self/fd/N, gone with the process (Ctrl-C and kill -9 included).
            auto input = util::memory_file(*text);
            if (!input) {
                return std::unexpected(input.error());
            }
            const std::filesystem::path input_path = fmt::format("/proc/self/fd/{}", input->get());
            kc::MergeRequest request;
            request.inputs = {input_path};
            request.rules = rules;
            request.dry_run = preview || session.dry_run();
            request.options.as_name = c.name;
            request.options.server = c.exposed_server;
            if (!c.tls_server_name.empty()) {
                request.options.tls_server_name = c.tls_server_name;
            }
            request.options.on_conflict = ours ? kc::ConflictPolicy::overwrite : kc::ConflictPolicy::refuse;
            const std::set<std::string> pairs = pairs_of(clusters, i);
            // Write-ahead: a run killed between the file write and the record's still knows the entries
            // are its.
            if (!preview && !session.dry_run()) {
                record->before_write();
                if (!recorded) {
                    record->intend(c.name, c.exposed_server, pairs);
                }
                if (auto saved = record->save(); !saved) {
                    return saved;
                }
            }
            auto plan = kc::run_merge(request);
            if (!preview && !plan && !recorded && !session.dry_run()) {
                record->forget(c.name); // nothing was written
                (void)record->save();
            }
            if (!plan && plan.error().kind == util::ErrorKind::conflict) {
                // A refusal, not a race: already_exists is never retried. The listing names the user's files;
                // the in-memory input is named as what it holds.
                const std::string listing =
                    name_input(plan.error().message, input_path.string(),
                               fmt::format("join's entry for {} (from {})", c.name, source.file.string()));
                return util::fail(
                    util::ErrorKind::already_exists,
                    fmt::format(
                        "{}: the kubeconfig already has entries named \"{}\" for another cluster; join "
                        "names each cluster's entries after its Cilium cluster name. Rename those entries "
                        "(kubectl config rename-context, or edit the file named below) and run join "
                        "again.\n{}",
                        c.name, c.name, listing));
            }
            if (!plan) {
                return std::unexpected(plan.error().with_context("merging the kubeconfig"));
            }
            if (preview) {
                continue;
            }
            if (session.dry_run()) {
                if (plan->plan.changes_file()) {
                    session.plan(
                        {c.name,
                         "kubeconfig",
                         fmt::format("merge cluster, user and context \"{}\" (server {}) into {}: {}", c.name,
                                     c.exposed_server, target.string(), decision.why),
                         json(kc::dry_run_yaml(plan->plan, false)),
                         {}});
                }
                continue;
            }
            bool added = false;
            for (const auto& change : plan->plan.changes) {
                added = added || change.action != kc::MergeAction::identical;
            }
            if (!added && !recorded) {
                // The entries were there already, with this meaning, before this run: not ours to remove
                // later.
                record->forget(c.name);
            } else {
                record->intend(c.name, c.exposed_server, pairs);
                record->mark_applied(c.name);
                if (added && plan->write) {
                    if (auto written = util::read_file(target)) {
                        record->wrote(*written, kube::kubeconfig_backups(target));
                    }
                }
                if (added && plan->write && plan->write->backup) {
                    session.say(fmt::format("{}: kubeconfig entry \"{}\" written to {} (backup {}): {}",
                                            c.name, c.name, target.string(), plan->write->backup->string(),
                                            decision.why));
                }
            }
            if (auto saved = record->save(); !saved) {
                return saved;
            }
        }
    }
    Journal& journal = *clusters.front()->journal;
    for (std::size_t i = 1; i < clusters.size(); ++i) {
        journal.set_step(clusters[i]->name, "kubeconfig", "");
    }
    return journal.flush();
}

} // namespace

EntryDecision decide_entries(const kube::Kubeconfig& config, const Cluster& cluster, bool recorded) {
    const KubeconfigSource& source = cluster.source;
    if (recorded) {
        return {EntryChoice::write,
                {},
                "written by an earlier join on this machine (its record says so), kept up to date"};
    }
    if (auto file = existing_entries(config, cluster.name, source)) {
        return {EntryChoice::keep_named, *file,
                fmt::format("context \"{}\" already names this cluster in {}; kept as it is", cluster.name,
                            file->string())};
    }
    const std::string& server = source.cluster.value.server;
    auto given = config.contexts.find(source.context);
    std::error_code ignored;
    const bool in_users_kubeconfig =
        given != config.contexts.end() &&
        (given->second.origin == source.file ||
         std::filesystem::equivalent(given->second.origin, source.file, ignored));
    if (!in_users_kubeconfig) {
        return {EntryChoice::write,
                {},
                fmt::format("its context \"{}\" comes from {}, not from the user's kubeconfig",
                            source.context, source.file.string())};
    }
    const auto server_class = kc::classify_server(server);
    if (server == cluster.exposed_server || !kc::reachable_only_locally(server_class)) {
        return {EntryChoice::keep_given, given->second.origin,
                fmt::format("context \"{}\" in {} already reaches this cluster at {} ({}), an address other "
                            "machines can reach",
                            source.context, given->second.origin.string(), server,
                            server == cluster.exposed_server ? "the exposed API server"
                                                             : kc::to_string(server_class))};
    }
    return {EntryChoice::write,
            {},
            fmt::format("context \"{}\" reaches it at {} ({}), an address other machines cannot reach",
                        source.context, server, kc::to_string(server_class))};
}

util::Result<void> step_kubeconfig(Session& session, std::vector<Cluster*>& clusters) {
    return with_retries(session, "kubeconfig", [&] { return merge(session, clusters); });
}

util::Result<void> remove_kubeconfig_entries(const std::filesystem::path& file, const std::string& name) {
    auto written = kube::modify_kubeconfig_file(
        file, kube::k_default_lock_timeout,
        [&](const std::optional<kube::KubeconfigFile>& current) -> util::Result<std::optional<std::string>> {
            if (!current) {
                return std::optional<std::string>();
            }
            YAML::Node doc = YAML::Clone(current->root);
            bool changed = false;
            for (const char* list : {"clusters", "users", "contexts"}) {
                YAML::Node items = doc[list];
                if (!items || !items.IsSequence()) {
                    continue;
                }
                YAML::Node kept(YAML::NodeType::Sequence);
                for (const auto& item : items) {
                    if (item["name"] && item["name"].as<std::string>() == name) {
                        changed = true;
                        continue;
                    }
                    kept.push_back(item);
                }
                doc[list] = kept;
            }
            if (doc["current-context"] && doc["current-context"].as<std::string>() == name) {
                doc["current-context"] = "";
                changed = true;
            }
            if (!changed) {
                return std::optional<std::string>();
            }
            auto text = kc::render_kubeconfig(doc, file, kc::Validation::names);
            if (!text) {
                return std::unexpected(text.error());
            }
            return std::optional<std::string>(std::move(*text));
        });
    if (!written) {
        return std::unexpected(written.error());
    }
    return {};
}

util::Result<bool> restore_kubeconfig(const KubeconfigRecord& record, const std::filesystem::path& original) {
    auto content = util::read_file(original);
    if (!content) {
        return util::fail(content.error().kind(), original.string() + ": " + content.error().reason());
    }
    bool restored = false;
    auto written = kube::modify_kubeconfig_file(
        record.kubeconfig(), kube::k_default_lock_timeout,
        [&](const std::optional<kube::KubeconfigFile>&) -> util::Result<std::optional<std::string>> {
            auto current = util::read_file(record.kubeconfig()); // under the lock: as it is now
            if (!current || record.restorable(*current) != original) {
                return std::optional<std::string>();
            }
            restored = true;
            return std::optional<std::string>(*content);
        });
    if (!written) {
        return std::unexpected(written.error());
    }
    return restored;
}

} // namespace meshlink::plugin::mesh
