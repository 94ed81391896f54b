#pragma once
// Reading nested fields of API objects without exceptions: a missing field or one of another type reads as
// absent, so an odd object (another API version, a hand-edited seed) never ends a preflight run.

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace meshlink::plugin::preflight::json_path {

// The value at `path` (object keys), or nullptr.
inline const nlohmann::json* find(const nlohmann::json& root, std::initializer_list<std::string_view> path) {
    const nlohmann::json* at = &root;
    for (auto key : path) {
        if (!at->is_object()) {
            return nullptr;
        }
        auto it = at->find(key);
        if (it == at->end()) {
            return nullptr;
        }
        at = &*it;
    }
    return at;
}

inline std::string string_at(const nlohmann::json& root, std::initializer_list<std::string_view> path,
                             std::string fallback = {}) {
    const auto* value = find(root, path);
    return value != nullptr && value->is_string() ? value->get<std::string>() : fallback;
}

inline int int_at(const nlohmann::json& root, std::initializer_list<std::string_view> path,
                  int fallback = 0) {
    const auto* value = find(root, path);
    return value != nullptr && value->is_number_integer() ? value->get<int>() : fallback;
}

// The array at `path`, or an empty one.
inline const nlohmann::json& array_at(const nlohmann::json& root,
                                      std::initializer_list<std::string_view> path) {
    static const nlohmann::json k_empty = nlohmann::json::array();
    const auto* value = find(root, path);
    return value != nullptr && value->is_array() ? *value : k_empty;
}

} // namespace meshlink::plugin::preflight::json_path
