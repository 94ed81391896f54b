#pragma once
// The table of protobuf messages fakekube decodes (protobuf_fields.cpp explains a row).

#include <string_view>
#include <vector>

namespace meshlink::fakekube {

struct ProtoField {
    int number;
    const char* json;
    const char* type;
    const char* flags;
};

struct ProtoMessage {
    const char* name; // "core.v1.PodSpec", "meta.v1.ObjectMeta"
    std::vector<ProtoField> fields;
};

// nullptr when fakekube does not decode `name`.
const ProtoMessage* proto_message(std::string_view name);

} // namespace meshlink::fakekube
