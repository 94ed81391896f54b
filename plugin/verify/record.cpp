#include "plugin/verify/record.hpp"

#include "plugin/defaults.hpp"
#include "plugin/demo/pods.hpp"
#include "plugin/mesh/api.hpp"
#include "util/json_text.hpp"

#include <fmt/format.h>

namespace meshlink::plugin::verify {
namespace {

namespace df = defaults;
using nlohmann::json;

std::string path() {
    return demo::core_path("configmaps", df::k_cilium_namespace, df::k_verify_result_configmap);
}

} // namespace

util::Result<void> record_result(demo::DemoApi& api, std::string_view key, const LastResult& result) {
    const std::string value =
        json{{"result", result.result}, {"at", result.at}, {"summary", result.summary}}.dump();
    auto current = api.get(path());
    if (!current) {
        return std::unexpected(current.error());
    }
    if (*current) {
        auto patched = api.merge_patch(path(), {{"data", {{std::string(key), value}}}});
        if (!patched) {
            return std::unexpected(patched.error());
        }
        return {};
    }
    json object = {{"apiVersion", "v1"},
                   {"kind", "ConfigMap"},
                   {"metadata",
                    {{"name", df::k_verify_result_configmap},
                     {"namespace", df::k_cilium_namespace},
                     {"labels", {{df::k_managed_by_label, df::k_managed_by_meshlink}}}}},
                   {"data", {{std::string(key), value}}}};
    auto journal = api.get(demo::core_path("configmaps", df::k_cilium_namespace, df::k_mesh_journal));
    if (!journal) {
        return std::unexpected(journal.error());
    }
    if (*journal) {
        const json& meta = (**journal)["metadata"];
        object["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "v1"},
                                                              {"kind", "ConfigMap"},
                                                              {"name", meta.value("name", "")},
                                                              {"uid", meta.value("uid", "")}}});
    }
    auto created = api.create(demo::core_path("configmaps", df::k_cilium_namespace), object);
    if (!created && created.error().kind == util::ErrorKind::already_exists) {
        auto patched = api.merge_patch(path(), {{"data", {{std::string(key), value}}}});
        if (!patched) {
            return std::unexpected(patched.error());
        }
        return {};
    }
    if (!created) {
        return std::unexpected(created.error());
    }
    return {};
}

util::Result<void> forget_result(demo::DemoApi& api, std::string_view key) {
    auto current = api.get(path());
    if (!current) {
        return std::unexpected(current.error());
    }
    if (!*current) {
        return {};
    }
    const json& data = (**current).contains("data") ? (**current)["data"] : json::object();
    if (!data.is_object() || !data.contains(key)) {
        return {};
    }
    if (data.size() == 1) {
        auto removed = api.remove(path());
        if (!removed) {
            return std::unexpected(removed.error());
        }
        return {};
    }
    auto patched = api.merge_patch(path(), {{"data", {{std::string(key), nullptr}}}});
    if (!patched) {
        return std::unexpected(patched.error());
    }
    return {};
}

std::map<std::string, LastResult> parse_results(const json& config_map) {
    std::map<std::string, LastResult> out;
    if (!config_map.is_object() || !config_map.contains("data") || !config_map["data"].is_object()) {
        return out;
    }
    for (const auto& [key, value] : config_map["data"].items()) {
        if (!value.is_string() || value.get_ref<const std::string&>().size() > 16384) {
            continue;
        }
        const json doc = util::parse_json(value.get<std::string>()).value_or(json());
        if (!doc.is_object() || !doc.contains("result") || !doc["result"].is_string() ||
            (doc["result"] != "pass" && doc["result"] != "fail")) {
            continue;
        }
        LastResult result;
        result.result = doc["result"].get<std::string>();
        result.at = demo::one_line(mesh::text(doc, "at"), 40);
        result.summary = demo::one_line(mesh::text(doc, "summary"), 400);
        out[key] = std::move(result);
    }
    return out;
}

} // namespace meshlink::plugin::verify
