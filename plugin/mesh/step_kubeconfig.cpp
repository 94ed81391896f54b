#include "plugin/mesh/step_kubeconfig.hpp"

#include "kube/kubeconfig_write.hpp"
#include "plugin/defaults.hpp"
#include "plugin/kubeconfig/entries.hpp"
#include "plugin/kubeconfig/merge.hpp"
#include "util/fd.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace meshlink::plugin::mesh {
namespace {

namespace kc = plugin::kubeconfig;

// A private directory (0700) removed with its content when the owner goes away: the merge input carries
// credentials for the moment it exists.
class PrivateDirectory {
public:
    static util::Result<PrivateDirectory> create() {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern =
            std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/meshlink-join-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            return util::fail(util::ErrorKind::io,
                              fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
        }
        return PrivateDirectory(pattern);
    }
    PrivateDirectory(PrivateDirectory&& other) noexcept : m_path(std::exchange(other.m_path, {})) {}
    PrivateDirectory(const PrivateDirectory&) = delete;
    PrivateDirectory& operator=(const PrivateDirectory&) = delete;
    PrivateDirectory& operator=(PrivateDirectory&&) = delete;
    ~PrivateDirectory() {
        if (!m_path.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(m_path, ignored);
        }
    }
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    explicit PrivateDirectory(std::filesystem::path path) : m_path(std::move(path)) {}
    std::filesystem::path m_path;
};

util::Result<void> write_private(const std::filesystem::path& file, const std::string& content) {
    util::Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) {
        return util::fail(util::ErrorKind::io, fmt::format("{}: {}", file.string(), std::strerror(errno)));
    }
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n <= 0) {
            return util::fail(util::ErrorKind::io,
                              fmt::format("{}: {}", file.string(), std::strerror(errno)));
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

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

// Merges each cluster's entries into the file kubectl writes new entries to; write-ahead recorded.
util::Result<void> merge(Session& session, std::vector<Cluster*>& clusters) {
    const kube::LoadingRules& rules = session.options().kubeconfig_rules;
    const auto target = kc::merge_target(rules, std::nullopt);
    Journal& journal = *clusters.front()->journal;
    auto dir = PrivateDirectory::create();
    if (!dir) {
        return std::unexpected(dir.error());
    }
    std::vector<std::string> all_peers;
    for (std::size_t i = 1; i < clusters.size(); ++i) {
        all_peers.push_back(clusters[i]->name);
    }
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        Cluster& c = *clusters[i];
        const KubeconfigSource& source = c.source;
        // Whom the entry serves: the local one every peer, a peer's one that peer.
        const std::vector<std::string> peers = i == 0 ? all_peers : std::vector<std::string>{c.name};
        std::error_code same_error;
        if (source.context == c.name && std::filesystem::equivalent(source.file, target, same_error)) {
            session.say(
                fmt::format("{}: kubeconfig context \"{}\" already names this cluster in {}; kept as it is",
                            c.name, c.name, target.string()));
            continue;
        }
        auto text = input_document(source);
        if (!text) {
            return std::unexpected(text.error());
        }
        const auto input = dir->path() / fmt::format("{}.kubeconfig", i);
        if (auto written = write_private(input, *text); !written) {
            return std::unexpected(written.error());
        }
        kc::MergeRequest request;
        request.inputs = {input};
        request.rules = rules;
        request.dry_run = session.dry_run();
        request.options.as_name = c.name;
        request.options.server = c.exposed_server;
        if (!c.tls_server_name.empty()) {
            request.options.tls_server_name = c.tls_server_name;
        }
        const std::string id = fmt::format("kubeconfig/{}", c.name);
        const auto recorded = journal.find(id);
        const bool ours =
            recorded && recorded->state == "applied" && recorded->detail.value("file", "") == target.string();
        request.options.on_conflict = ours ? kc::ConflictPolicy::overwrite : kc::ConflictPolicy::refuse;
        Change record;
        record.id = id;
        record.action = Action::kubeconfig;
        record.peers = {peers.begin(), peers.end()};
        record.detail = {{"file", target.string()}, {"name", c.name}, {"server", c.exposed_server}};
        // Write-ahead: a run killed between the file write and the journal write still knows the entries are
        // its.
        if (!recorded && !session.dry_run()) {
            journal.intend(record);
            if (auto flushed = journal.flush(); !flushed) {
                return flushed;
            }
        }
        auto plan = kc::run_merge(request);
        if (!plan && !recorded && !session.dry_run()) {
            journal.forget(id); // nothing was written
            (void)journal.flush();
        }
        if (!plan && plan.error().kind == util::ErrorKind::conflict) {
            return util::fail(
                util::ErrorKind::conflict,
                fmt::format("{}: the kubeconfig {} already has entries named \"{}\" for another server; "
                            "join names each cluster's entry after its Cilium cluster name. Rename "
                            "those entries (kubectl config rename-context) and run join again.\n{}",
                            c.name, target.string(), c.name, plan.error().message));
        }
        if (!plan) {
            return std::unexpected(plan.error().with_context("merging the kubeconfig"));
        }
        if (session.dry_run()) {
            if (plan->plan.changes_file()) {
                session.plan({c.name,
                              "kubeconfig",
                              fmt::format("merge cluster, user and context \"{}\" (server {}) into {}",
                                          c.name, c.exposed_server, target.string()),
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
            // The entries were there already, with this meaning, before this run: not ours to remove later.
            journal.forget(id);
        } else if (!added && recorded->state != "applied") {
            // Written by a run that was killed before it could say so.
            journal.mark_applied(id);
        } else if (added) {
            journal.intend(record, true);
            journal.mark_applied(id);
            if (plan->write && plan->write->backup) {
                session.say(fmt::format("{}: kubeconfig entry \"{}\" written to {} (backup {})", c.name,
                                        c.name, target.string(), plan->write->backup->string()));
            }
        } else {
            journal.intend(record);
        }
    }
    for (const auto& peer : all_peers) {
        journal.set_step(peer, "kubeconfig", "");
    }
    return journal.flush();
}

} // namespace

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

} // namespace meshlink::plugin::mesh
