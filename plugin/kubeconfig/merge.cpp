#include "plugin/kubeconfig/merge.hpp"

#include "yaml/yaml.hpp"

#include <array>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

namespace meshlink::plugin::kubeconfig {
namespace fs = std::filesystem;
namespace {

std::string in_quotes(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

// The value of `key`, if `map` is a mapping that has it. (Cheaper than get() for a missing key: a new
// yaml-cpp node allocates its own memory.)
std::optional<YAML::Node> find(const YAML::Node& map, std::string_view key) {
    if (!map.IsMap()) {
        return std::nullopt;
    }
    for (const auto& item : map) {
        if (item.first.Scalar() == key) {
            return item.second;
        }
    }
    return std::nullopt;
}

// The value of `key`, or an undefined node. (yaml-cpp's const operator[] returns an "invalid" node for a
// missing key, on which most calls throw; the non-const one inserts an invisible entry.)
YAML::Node get(const YAML::Node& map, std::string_view key) {
    // Not YAML::Node(): a default-constructed node counts as defined (a null).
    if (auto value = find(map, key)) {
        return *value;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

std::string string_field(const YAML::Node& map, std::string_view key) {
    const auto value = find(map, key);
    return value && yaml::is_string(*value) ? value->Scalar() : std::string();
}

bool empty_mapping(const YAML::Node& node) {
    return yaml::is_null(node) || (node.IsMap() && node.size() == 0);
}

std::size_t index_of(EntryKind kind) {
    return static_cast<std::size_t>(kind);
}

// A name that is taken, in the target or another file kubectl reads with it.
struct Existing {
    YAML::Node inner;                 // absolute paths
    const fs::path* origin = nullptr; // the file (alive while planning)
    int line = 0;
    bool in_target = false;

    [[nodiscard]] std::string where() const { return origin->string() + ":" + std::to_string(line); }
};

struct Conflict {
    EntryKind kind;
    std::string name;
    std::string reason; // "<input>:<line> differs from <target>:<line>"
};

// An input entry chosen for the merge, and the name it should get.
struct Selected {
    RawEntry entry;
    std::string name;
    const fs::path* origin = nullptr; // the input file's path (alive while planning)
};

class Planner {
public:
    Planner(const std::optional<kube::KubeconfigFile>& target, const fs::path& target_path,
            const std::vector<kube::KubeconfigFile>& others, const MergeOptions& options,
            const YAML::Node* memory_of)
        : m_target_path(target_path), m_options(options) {
        if (target) {
            m_plan.document =
                memory_of != nullptr ? yaml::clone_like(target->root, *memory_of) : YAML::Clone(target->root);
        } else {
            m_plan.document = empty_kubeconfig(memory_of);
        }
        // One yaml-cpp memory for everything the plan builds (see yaml::make_node_like).
        if (target) {
            index_file(*target, true);
            m_plan.current_context_before = string_field(target->root, "current-context");
        }
        m_chain_current = m_plan.current_context_before;
        m_chain_preferences = target && !empty_mapping(get(target->root, "preferences"));
        for (const auto& other : others) {
            index_file(other, false);
            if (m_chain_current.empty()) {
                m_chain_current = string_field(other.root, "current-context");
            }
            m_chain_preferences = m_chain_preferences || !empty_mapping(get(other.root, "preferences"));
            index_extensions(other.root);
        }
        if (target) {
            index_extensions(target->root);
        }
        m_plan.current_context_after = m_plan.current_context_before;
    }

    util::Result<MergePlan> run(const std::vector<kube::KubeconfigFile>& inputs) {
        auto selection = select(inputs);
        if (!selection) {
            return std::unexpected(selection.error());
        }
        if ((m_options.server || m_options.tls_server_name)) {
            std::size_t clusters = 0;
            for (const auto& per_input : *selection) {
                for (const auto& item : per_input) {
                    clusters += item.entry.kind == EntryKind::cluster ? 1 : 0;
                }
            }
            if (clusters != 1) {
                return util::fail(
                    util::ErrorKind::usage,
                    "--server and --tls-server-name rewrite one cluster, but the inputs define " +
                        std::to_string(clusters) + "; use --as NAME with a single-context input");
            }
        }
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            std::array<std::map<std::string, std::string>, 2>
                renamed; // cluster, user: input name -> target name
            for (EntryKind kind : k_entry_kinds) {
                for (const Selected& item : (*selection)[i]) {
                    if (item.entry.kind != kind) {
                        continue;
                    }
                    auto merged = merge_entry(item, inputs[i].path.parent_path(), renamed);
                    if (!merged) {
                        return std::unexpected(merged.error());
                    }
                    if (kind != EntryKind::context && *merged != item.entry.name) {
                        renamed[index_of(kind)][item.entry.name] = *merged;
                    }
                    if (kind == EntryKind::context) {
                        m_context_names[&inputs[i]][item.entry.name] = *merged;
                    }
                }
            }
        }
        if (!m_conflicts.empty()) {
            return refuse();
        }
        if (auto current = choose_current_context(inputs); !current) {
            return std::unexpected(current.error());
        }
        merge_preferences_and_extensions(inputs);
        return std::move(m_plan);
    }

private:
    void index_file(const kube::KubeconfigFile& file, bool in_target) {
        for (EntryKind kind : k_entry_kinds) {
            for (auto& entry : file_entries(file, kind)) {
                // First file to define a name wins, as kubectl reads them.
                m_existing[index_of(kind)].try_emplace(
                    entry.name, Existing{absolutize(entry.inner, kind, file.path.parent_path()), &file.path,
                                         entry.line, in_target});
            }
        }
    }

    void index_extensions(const YAML::Node& root) {
        const YAML::Node extensions = get(root, "extensions");
        if (extensions.IsSequence()) {
            for (const auto& item : extensions) {
                m_extension_names.insert(string_field(item, "name"));
            }
        }
    }

    // Which input entries take part, per input: everything, or with --as the one context and what it uses.
    util::Result<std::vector<std::vector<Selected>>> select(const std::vector<kube::KubeconfigFile>& inputs) {
        std::vector<std::vector<Selected>> selection(inputs.size());
        if (!m_options.as_name) {
            for (std::size_t i = 0; i < inputs.size(); ++i) {
                for (EntryKind kind : k_entry_kinds) {
                    for (auto& entry : file_entries(inputs[i], kind)) {
                        std::string name = entry.name;
                        selection[i].push_back({std::move(entry), std::move(name), &inputs[i].path});
                    }
                }
            }
            return selection;
        }
        const std::string& as = *m_options.as_name;
        std::vector<std::pair<std::size_t, RawEntry>> contexts;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            for (auto& entry : file_entries(inputs[i], EntryKind::context)) {
                contexts.emplace_back(i, std::move(entry));
            }
        }
        if (contexts.size() != 1) {
            std::string names;
            for (const auto& [i, entry] : contexts) {
                names += (names.empty() ? "" : ", ") + entry.name;
            }
            return util::fail(util::ErrorKind::usage,
                              "--as names one context, but the inputs define " +
                                  std::to_string(contexts.size()) +
                                  (names.empty() ? "" : " (" + names + ")") +
                                  "; merge a file with a single context, or omit --as");
        }
        auto& [input, context] = contexts.front();
        for (EntryKind kind : {EntryKind::cluster, EntryKind::user}) {
            const std::string wanted = string_field(context.inner, noun(kind));
            if (wanted.empty()) {
                continue;
            }
            // The context's own file first, then the other inputs.
            std::optional<std::pair<std::size_t, RawEntry>> found;
            for (std::size_t step = 0; step < inputs.size() && !found; ++step) {
                const std::size_t i = (input + step) % inputs.size();
                for (auto& entry : file_entries(inputs[i], kind)) {
                    if (entry.name == wanted) {
                        found.emplace(i, std::move(entry));
                        break;
                    }
                }
            }
            if (!found) {
                return util::fail(util::ErrorKind::invalid,
                                  location(context) + ": context " + in_quotes(context.name) + " uses " +
                                      std::string(noun(kind)) + " " + in_quotes(wanted) +
                                      ", which no input defines; --as needs the context's cluster and user");
            }
            selection[found->first].push_back({std::move(found->second), as, &inputs[found->first].path});
        }
        selection[input].push_back({std::move(context), as, &inputs[input].path});
        return selection;
    }

    bool same(const Existing& existing, const YAML::Node& candidate, EntryKind kind) const {
        if (same_meaning(existing.inner, candidate, kind)) {
            return true;
        }
        if (m_options.flatten) {
            // An existing entry referencing the very files we inline is the same entry.
            auto flat = flatten(existing.inner, kind, "");
            return flat && same_meaning(*flat, candidate, kind);
        }
        return false;
    }

    // Merges one entry; returns the name it has in the target.
    util::Result<std::string> merge_entry(const Selected& item, const fs::path& input_dir,
                                          const std::array<std::map<std::string, std::string>, 2>& renamed) {
        const RawEntry& entry = item.entry;
        auto candidate = prepare_candidate(entry, input_dir, renamed);
        if (!candidate) {
            return std::unexpected(candidate.error());
        }
        return place(item, *candidate);
    }

    // The input entry as it will be written: absolute paths, --server/--tls-server-name, renamed references,
    // --flatten. yaml-cpp nodes are handles: a node shared with the input is copied before any change, and no
    // handle into a document is ever assigned to (that would alias the two).
    util::Result<YAML::Node>
    prepare_candidate(const RawEntry& entry, const fs::path& input_dir,
                      const std::array<std::map<std::string, std::string>, 2>& renamed) const {
        const auto where = [&entry] {
            return location(entry) + ": " + std::string(noun(entry.kind)) + " " + in_quotes(entry.name);
        };
        const YAML::Node absolute = absolutize(entry.inner, entry.kind, input_dir);
        bool changes = entry.kind == EntryKind::cluster && (m_options.server || m_options.tls_server_name);
        if (entry.kind == EntryKind::context) {
            for (EntryKind used : {EntryKind::cluster, EntryKind::user}) {
                changes = changes || renamed[index_of(used)].contains(string_field(absolute, noun(used)));
            }
        }
        YAML::Node candidate = !absolute.IsMap()                     ? YAML::Node(YAML::NodeType::Map)
                               : changes && absolute.is(entry.inner) ? YAML::Clone(absolute)
                                                                     : absolute;
        if (entry.kind == EntryKind::cluster) {
            if (m_options.server) {
                candidate["server"] = yaml::make_string_node(*m_options.server);
            }
            if (m_options.tls_server_name) {
                candidate["tls-server-name"] = yaml::make_string_node(*m_options.tls_server_name);
            }
        }
        if (entry.kind == EntryKind::context) {
            for (EntryKind used : {EntryKind::cluster, EntryKind::user}) {
                const auto& names = renamed[index_of(used)];
                if (auto it = names.find(string_field(candidate, noun(used))); it != names.end()) {
                    candidate[std::string(noun(used))] = yaml::make_string_node(it->second);
                }
            }
        }
        if (auto files = check_referenced_files(candidate, entry.kind, ""); !files) {
            return std::unexpected(files.error().with_context(where()));
        }
        if (m_options.flatten) {
            return flatten(candidate, entry.kind, where());
        }
        return candidate;
    }

    // Decides what happens to a prepared entry and applies it to the plan; returns its name in the target.
    std::string place(const Selected& item, const YAML::Node& candidate) {
        const RawEntry& entry = item.entry;
        auto& existing = m_existing[index_of(entry.kind)];
        MergeChange change{entry.kind, item.name, entry.name, location(entry), MergeAction::add};
        auto found = existing.find(item.name);
        if (entry.kind == EntryKind::context && m_options.on_conflict == ConflictPolicy::refuse) {
            // The same words can mean another cluster: a context whose cluster or user conflicts does too.
            for (EntryKind used : {EntryKind::cluster, EntryKind::user}) {
                const std::string uses = string_field(candidate, noun(used));
                if (m_conflicted[index_of(used)].contains(uses)) {
                    m_conflicts.push_back({entry.kind, item.name,
                                           location(entry) + " uses " + std::string(noun(used)) + " " +
                                               in_quotes(uses) + ", which conflicts"});
                    return item.name;
                }
            }
        }
        if (found != existing.end() && !same(found->second, candidate, entry.kind)) {
            switch (m_options.on_conflict) {
            case ConflictPolicy::refuse:
                m_conflicts.push_back(
                    {entry.kind, item.name, location(entry) + " differs from " + found->second.where()});
                m_conflicted[index_of(entry.kind)].insert(item.name);
                return item.name;
            case ConflictPolicy::overwrite:
                change.action = MergeAction::overwrite;
                break;
            case ConflictPolicy::rename:
                // Deterministic: the first free suffix, or one already holding this very entry (a re-run).
                for (int n = 2;; ++n) {
                    const std::string name = item.name + "-" + std::to_string(n);
                    found = existing.find(name);
                    if (found == existing.end() || same(found->second, candidate, entry.kind)) {
                        change.name = name;
                        change.action =
                            found == existing.end() ? MergeAction::rename : MergeAction::identical;
                        break;
                    }
                }
                break;
            }
        } else if (found != existing.end()) {
            change.action = MergeAction::identical;
        }
        if (change.action != MergeAction::identical) {
            write_entry(entry.kind, change.name, candidate,
                        found != existing.end() && found->second.in_target &&
                            change.action == MergeAction::overwrite);
            existing.erase(change.name); // erase + emplace: assigning would alias the old node (yaml-cpp)
            existing.emplace(change.name, Existing{candidate, item.origin, entry.line, true});
        }
        m_plan.changes.push_back(change);
        return change.name;
    }

    static YAML::Node list_of(YAML::Node& document, EntryKind kind) {
        const std::string key(list_key(kind));
        if (YAML::Node list = get(document, key); list.IsSequence()) {
            return list;
        }
        // Never assign to a Node handle that refers into a document: yaml-cpp would alias the two.
        document[key] = YAML::Node(YAML::NodeType::Sequence);
        return get(document, key);
    }

    void write_entry(EntryKind kind, const std::string& name, const YAML::Node& inner,
                     bool replace_in_target) {
        YAML::Node list = list_of(m_plan.document, kind);
        bool replaced = false;
        if (replace_in_target) {
            for (auto item : list) {
                if (string_field(item, "name") == name) {
                    item[std::string(noun(kind))] = inner;
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) {
            list.push_back(make_entry_item(kind, name, inner, m_plan.document));
        }
        m_plan.written.push_back({kind, name, inner});
    }

    util::Result<MergePlan> refuse() const {
        std::string message = std::to_string(m_conflicts.size()) +
                              (m_conflicts.size() == 1 ? " name already exists" : " names already exist") +
                              " with different content; merging would replace or shadow them:";
        for (const Conflict& conflict : m_conflicts) {
            message += "\n  " + std::string(noun(conflict.kind)) + " " + in_quotes(conflict.name) + ": " +
                       conflict.reason;
        }
        message +=
            "\nNothing was written to " + m_target_path.string() +
            ". Name the merged context, cluster and user with --as NAME, add them under new names with "
            "--rename-on-conflict, or replace the existing ones with --overwrite.";
        return util::fail(util::ErrorKind::conflict, message);
    }

    util::Result<> choose_current_context(const std::vector<kube::KubeconfigFile>& inputs) {
        // The input's current-context under its name in the target, when that context was merged.
        auto mapped_current = [&]() -> std::string {
            for (const auto& input : inputs) {
                const std::string current = string_field(input.root, "current-context");
                auto names = m_context_names.find(&input);
                if (!current.empty() && names != m_context_names.end()) {
                    if (auto it = names->second.find(current); it != names->second.end()) {
                        return it->second;
                    }
                }
            }
            return {};
        };
        std::string chosen;
        if (m_options.set_current) {
            std::vector<std::string> merged;
            for (const auto& change : m_plan.changes) {
                if (change.kind == EntryKind::context) {
                    merged.push_back(change.name);
                }
            }
            chosen = m_options.as_name ? *m_options.as_name : mapped_current();
            if (chosen.empty() && merged.size() == 1) {
                chosen = merged.front();
            }
            if (chosen.empty()) {
                return util::fail(
                    util::ErrorKind::usage,
                    "--set-current: the inputs define " + std::to_string(merged.size()) +
                        " contexts and no current-context; use --as NAME or set the context with "
                        "kubectl config use-context");
            }
        } else if (m_chain_current.empty()) {
            // Like kubectl reading the target and the inputs together: the first current-context wins.
            chosen = mapped_current();
        }
        if (!chosen.empty() && chosen != m_plan.current_context_before) {
            m_plan.document["current-context"] = yaml::make_string_node(chosen);
            m_plan.current_context_after = chosen;
        }
        return {};
    }

    void merge_preferences_and_extensions(const std::vector<kube::KubeconfigFile>& inputs) {
        if (!m_chain_preferences) {
            for (const auto& input : inputs) {
                const YAML::Node preferences = get(input.root, "preferences");
                if (!empty_mapping(preferences)) {
                    m_plan.document["preferences"] = YAML::Clone(preferences);
                    m_plan.preferences_adopted = true;
                    break;
                }
            }
        }
        for (const auto& input : inputs) {
            const YAML::Node extensions = get(input.root, "extensions");
            if (!extensions.IsSequence()) {
                continue;
            }
            for (const auto& item : extensions) {
                const std::string name = string_field(item, "name");
                if (m_extension_names.insert(name).second) {
                    if (!get(m_plan.document, "extensions").IsSequence()) {
                        m_plan.document["extensions"] = YAML::Node(YAML::NodeType::Sequence);
                    }
                    get(m_plan.document, "extensions").push_back(YAML::Clone(item));
                    m_plan.extensions_added.push_back(name);
                }
            }
        }
    }

    fs::path m_target_path;
    const MergeOptions& m_options;
    MergePlan m_plan;
    std::array<std::unordered_map<std::string, Existing>, 3> m_existing;
    std::set<std::string> m_extension_names;
    std::map<const kube::KubeconfigFile*, std::map<std::string, std::string>> m_context_names;
    std::vector<Conflict> m_conflicts;
    std::array<std::set<std::string>, 2> m_conflicted; // refused cluster and user names
    std::string m_chain_current;
    bool m_chain_preferences = false;
};

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code ec_a;
    std::error_code ec_b;
    const fs::path ca = fs::weakly_canonical(fs::absolute(a), ec_a);
    const fs::path cb = fs::weakly_canonical(fs::absolute(b), ec_b);
    return !ec_a && !ec_b && ca == cb;
}

} // namespace

bool MergePlan::changes_file() const {
    for (const auto& change : changes) {
        if (change.action != MergeAction::identical) {
            return true;
        }
    }
    return current_context_after != current_context_before || preferences_adopted ||
           !extensions_added.empty();
}

util::Result<MergePlan> plan_merge(const std::optional<kube::KubeconfigFile>& target,
                                   const fs::path& target_path,
                                   const std::vector<kube::KubeconfigFile>& others,
                                   const std::vector<kube::KubeconfigFile>& inputs,
                                   const MergeOptions& options, const YAML::Node* memory_of) {
    return Planner(target, target_path, others, options, memory_of).run(inputs);
}

std::string dry_run_yaml(const MergePlan& plan, bool raw) {
    YAML::Node document = empty_kubeconfig();
    document.remove("current-context");
    document.remove("preferences");
    for (const auto& entry : plan.written) {
        document[std::string(list_key(entry.kind))].push_back(
            make_entry_item(entry.kind, entry.name, entry.inner, document));
    }
    return yaml::emit(raw ? document : redact_document(document));
}

fs::path merge_target(const kube::LoadingRules& rules, const std::optional<fs::path>& into) {
    return into ? *into : rules.default_write_target();
}

util::Result<MergeResult> run_merge(const MergeRequest& request) {
    // One yaml-cpp memory for inputs and the new document. (Reading the inputs on several threads was
    // measured slower: each thread's malloc arena grows page by page, and the memories must be merged.)
    const YAML::Node arena(YAML::NodeType::Map);
    std::vector<kube::KubeconfigFile> inputs;
    for (const auto& path : request.inputs) {
        auto file = kube::read_kubeconfig_file(path, arena);
        if (!file) {
            return std::unexpected(file.error());
        }
        bool any = false;
        for (EntryKind kind : k_entry_kinds) {
            const YAML::Node list = get(file->root, list_key(kind));
            any = any || (list.IsSequence() && list.begin() != list.end());
        }
        if (!any) {
            return util::fail(util::ErrorKind::invalid,
                              path.string() + ": defines no clusters, users or contexts");
        }
        inputs.push_back(std::move(*file));
    }

    MergeResult result;
    result.target = merge_target(request.rules, request.into);

    // The other files kubectl reads with the target: their names are taken too.
    std::vector<kube::KubeconfigFile> others;
    if (!request.into && !request.rules.explicit_path) {
        for (const auto& path : request.rules.precedence) {
            if (same_file(path, result.target)) {
                continue;
            }
            auto file = kube::read_kubeconfig_file(path);
            if (!file && file.error().kind == util::ErrorKind::not_found) {
                continue;
            }
            if (!file) {
                return std::unexpected(file.error());
            }
            others.push_back(std::move(*file));
        }
    }

    auto plan_and_render =
        [&](const std::optional<kube::KubeconfigFile>& current) -> util::Result<std::optional<std::string>> {
        auto plan = plan_merge(current, result.target, others, inputs, request.options, &arena);
        if (!plan) {
            return std::unexpected(plan.error());
        }
        result.plan = std::move(*plan);
        if (!result.plan.changes_file()) {
            return std::optional<std::string>();
        }
        // Every entry was validated when its file was read; what the merge itself could get wrong is the
        // document's shape and its names.
        auto text = render_kubeconfig(result.plan.document, result.target, Validation::names);
        if (!text) {
            return std::unexpected(text.error());
        }
        return std::optional<std::string>(std::move(*text));
    };

    if (request.dry_run) {
        std::optional<kube::KubeconfigFile> current;
        if (auto file = kube::read_kubeconfig_file(result.target); file) {
            current = std::move(*file);
        } else if (file.error().kind != util::ErrorKind::not_found) {
            return std::unexpected(file.error());
        }
        if (auto planned = plan_and_render(current); !planned) {
            return std::unexpected(planned.error());
        }
        return result;
    }
    auto written = kube::modify_kubeconfig_file(result.target, request.lock_timeout, plan_and_render);
    if (!written) {
        return std::unexpected(written.error());
    }
    result.write = std::move(*written);
    return result;
}

} // namespace meshlink::plugin::kubeconfig
