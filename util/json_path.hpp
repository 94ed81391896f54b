#pragma once
// Reading nested fields of JSON that came from elsewhere (API objects, node reports, journals, Helm releases)
// without exceptions: a missing field, or one of another type, reads as absent, so an odd object (another API
// version, a hand-edited ConfigMap) is judged as data and never ends the run.

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace meshlink::util::json_path {

// The member `key` of `object`, or a null value when `object` is not an object or has no such member.
const nlohmann::json& child(const nlohmann::json& object, std::string_view key);

// The string member `key` of `object`, or "" when it is absent or not a string.
std::string text(const nlohmann::json& object, std::string_view key);

// The value at `path` (object keys, outermost first), or nullptr.
const nlohmann::json* find(const nlohmann::json& root, std::initializer_list<std::string_view> path);

// The string at `path`, or `fallback`.
std::string string_at(const nlohmann::json& root, std::initializer_list<std::string_view> path,
                      std::string fallback = {});

// The integer at `path` when it fits an int, or `fallback`.
int int_at(const nlohmann::json& root, std::initializer_list<std::string_view> path, int fallback = 0);

// The array at `path`, or an empty one.
const nlohmann::json& array_at(const nlohmann::json& root, std::initializer_list<std::string_view> path);

} // namespace meshlink::util::json_path
