#pragma once
// Small helpers the API handlers share: timestamps, UIDs, generated names, media types, continue tokens.

#include "tests/fakekube/http.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::fakekube {

// A random RFC 4122 version 4 UUID.
std::string new_uid();
// What generateName appends: five characters from the alphabet of utilrand.String.
std::string random_suffix();

// The representation an Accept header asks for.
enum class Representation { object, table, partial_metadata };
Representation negotiate(std::string_view accept);
// Whether an Accept header admits JSON, the only representation fakekube answers in (an empty header does).
bool accepts_json(std::string_view accept);
// The media type without parameters, lower-cased ("application/json").
std::string media_type(std::string_view content_type);

// Continue tokens: base64 of {"rv": N, "start": "<ns>/<name>"} (the key after which to resume).
std::string encode_continue(uint64_t revision, const std::string& last_key);
std::optional<std::pair<uint64_t, std::string>> decode_continue(const std::string& token);

// object[key], or an empty object when `object` is not an object or has no (or a null) `key`, so
// chains like child(child(pod, "metadata"), "labels").value(...) never throw.
const json& child(const json& object, std::string_view key);

} // namespace meshlink::fakekube
