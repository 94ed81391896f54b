#pragma once
// Protobuf request bodies (application/vnd.kubernetes.protobuf) as typed clients send them: kubectl's
// generator commands (create namespace|configmap|secret|service|deployment|job|pdb|role..., auth can-i) and
// drain's evictions. The body is the 4-byte magic "k8s\0" and a runtime.Unknown envelope (typeMeta, raw,
// contentEncoding, contentType) whose raw bytes are the object's message. decode_protobuf turns it into the
// JSON the same object would be as a JSON body, so every later step (schema, defaulting, validation, storage)
// is shared.
//
// Only the messages in protobuf_fields.cpp are decoded. fakekube refuses what it cannot decode instead of
// dropping it (kube-apiserver's protobuf decoder skips unknown field numbers silently): a field number
// fakekube does not know is a 400 naming the message and the number, a kind it does not decode a 415. A test
// then fails loudly instead of passing on an object that lost a field.

#include "tests/fakekube/http.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace meshlink::fakekube {

inline constexpr std::string_view k_protobuf_media_type = "application/vnd.kubernetes.protobuf";

struct ProtobufError {
    bool unsupported_kind = false; // 415: fakekube does not decode this kind at all
    std::string message;
};

// The object as JSON (apiVersion and kind from the envelope), or why not.
std::variant<json, ProtobufError> decode_protobuf(std::string_view body);

// A body read as JSON whatever its media type (JSON or protobuf), for the handlers that read small bodies
// themselves (DeleteOptions, Eviction, SelfSubjectAccessReview); nullopt with `error` set when unreadable.
std::optional<json> body_json(const Request& request, std::string& error);

// "v1/Namespace" -> true when decode_protobuf handles the kind.
bool protobuf_kind_supported(std::string_view api_version, std::string_view kind);

} // namespace meshlink::fakekube
