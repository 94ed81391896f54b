#pragma once
// In-memory MeshApi and MeshHost for the mesh unit tests: objects in a map with resourceVersions, merge and
// JSON patches, label selectors of the form k=v[,k=v]; a host whose commands, certificates and clock the test
// scripts.

#include "plugin/mesh/api.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <mutex>
#include <tuple>

namespace meshlink::test {

using nlohmann::json;
namespace mesh = plugin::mesh;

// The error message of a Result, or "" when it holds a value.
template <typename R>
std::string error_message(const R& result) {
    return result.has_value() ? std::string() : result.error().message;
}

class MemoryApi final : public mesh::MeshApi {
public:
    using Key = std::tuple<mesh::Kind, std::string, std::string>;

    void put(mesh::Kind kind, const json& object) {
        json copy = object;
        copy["metadata"]["resourceVersion"] = std::to_string(++m_version);
        m_objects[key(kind, mesh::text(copy["metadata"], "namespace"), mesh::name_of(copy))] = copy;
    }
    [[nodiscard]] const json* find(mesh::Kind kind, const std::string& ns, const std::string& name) const {
        auto it = m_objects.find(key(kind, ns, name));
        return it == m_objects.end() ? nullptr : &it->second;
    }
    int writes = 0;

    util::Result<std::optional<json>> get(mesh::Kind kind, std::string_view ns,
                                          std::string_view name) override {
        std::lock_guard lock(m_mutex);
        auto it = m_objects.find(key(kind, std::string(ns), std::string(name)));
        if (it == m_objects.end()) {
            return std::optional<json>();
        }
        return std::optional<json>(it->second);
    }
    util::Result<std::vector<json>> list(mesh::Kind kind, std::string_view ns,
                                         std::string_view selector) override {
        std::lock_guard lock(m_mutex);
        std::vector<json> out;
        for (const auto& [k, object] : m_objects) {
            if (std::get<0>(k) != kind || (!ns.empty() && std::get<1>(k) != ns) ||
                !matches(object, std::string(selector))) {
                continue;
            }
            out.push_back(object);
        }
        return out;
    }
    util::Result<json> create(mesh::Kind kind, std::string_view ns, const json& object) override {
        std::lock_guard lock(m_mutex);
        ++writes;
        const Key k = key(kind, std::string(ns), mesh::name_of(object));
        if (m_objects.contains(k)) {
            return util::fail(util::ErrorKind::already_exists, "already exists");
        }
        json copy = object;
        copy["metadata"]["namespace"] = std::string(ns);
        copy["metadata"]["resourceVersion"] = std::to_string(++m_version);
        m_objects[k] = copy;
        return copy;
    }
    util::Result<json> update(mesh::Kind kind, std::string_view ns, const json& object) override {
        std::lock_guard lock(m_mutex);
        ++writes;
        const Key k = key(kind, std::string(ns), mesh::name_of(object));
        auto it = m_objects.find(k);
        if (it == m_objects.end()) {
            return util::fail(util::ErrorKind::not_found, "not found");
        }
        if (mesh::text(object["metadata"], "resourceVersion") !=
            mesh::text(it->second["metadata"], "resourceVersion")) {
            return util::fail(util::ErrorKind::conflict, "conflict");
        }
        json copy = object;
        copy["metadata"]["resourceVersion"] = std::to_string(++m_version);
        it->second = copy;
        return copy;
    }
    util::Result<json> patch(mesh::Kind kind, std::string_view ns, std::string_view name,
                             kube::PatchType type, const json& patch) override {
        std::lock_guard lock(m_mutex);
        ++writes;
        auto it = m_objects.find(key(kind, std::string(ns), std::string(name)));
        if (it == m_objects.end()) {
            return util::fail(util::ErrorKind::not_found, "not found");
        }
        json next = it->second;
        try {
            if (type == kube::PatchType::json) {
                next = next.patch(patch);
            } else {
                const std::string wanted = mesh::text(mesh::child(patch, "metadata"), "resourceVersion");
                if (!wanted.empty() && wanted != mesh::text(next["metadata"], "resourceVersion")) {
                    return util::fail(util::ErrorKind::conflict, "conflict");
                }
                next.merge_patch(patch);
            }
        } catch (const json::exception& error) {
            return util::fail(util::ErrorKind::invalid, error.what());
        }
        next["metadata"]["resourceVersion"] = std::to_string(++m_version);
        it->second = next;
        return next;
    }
    util::Result<void> remove(mesh::Kind kind, std::string_view ns, std::string_view name,
                              std::string_view) override {
        std::lock_guard lock(m_mutex);
        ++writes;
        m_objects.erase(key(kind, std::string(ns), std::string(name)));
        return {};
    }

private:
    static Key key(mesh::Kind kind, std::string ns, std::string name) {
        if (kind == mesh::Kind::node) {
            ns.clear();
        }
        return {kind, std::move(ns), std::move(name)};
    }
    static bool matches(const json& object, const std::string& selector) {
        std::size_t start = 0;
        while (start < selector.size()) {
            const auto comma = selector.find(',', start);
            const std::string term =
                selector.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            const auto eq = term.find('=');
            if (mesh::label(object, term.substr(0, eq)) != term.substr(eq + 1)) {
                return false;
            }
            start = comma == std::string::npos ? selector.size() : comma + 1;
        }
        return true;
    }
    std::mutex m_mutex;
    std::map<Key, json> m_objects;
    long m_version = 100;
};

class ScriptedHost final : public mesh::MeshHost {
public:
    std::vector<mesh::ToolRun> runs;
    std::function<util::SubprocessResult(const mesh::ToolRun&)> on_run = [](const mesh::ToolRun&) {
        return util::SubprocessResult{};
    };
    std::map<std::string, std::string> certificates; // "host:port" -> PEM
    std::vector<std::string> programs;               // available on PATH
    std::chrono::steady_clock::time_point clock{};

    util::Result<util::SubprocessResult> run(const mesh::ToolRun& run) override {
        std::lock_guard lock(m_mutex);
        runs.push_back(run);
        return on_run(run);
    }
    bool available(const std::string& program) override {
        return std::find(programs.begin(), programs.end(), program) != programs.end();
    }
    util::Result<std::string> server_certificate(const std::string& host, int port,
                                                 std::chrono::milliseconds) override {
        auto it = certificates.find(fmt::format("{}:{}", host, port));
        if (it == certificates.end()) {
            return util::fail(util::ErrorKind::unavailable,
                              fmt::format("connect {}:{}: Connection refused", host, port));
        }
        return it->second;
    }
    std::chrono::steady_clock::time_point now() override { return clock; }
    void sleep(std::chrono::milliseconds duration) override { clock += duration; }

private:
    std::mutex m_mutex;
};

} // namespace meshlink::test
