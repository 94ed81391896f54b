#pragma once
// Protobuf wire format written by hand, for tests that send fakekube protobuf bodies without sharing its
// decoder.

#include <cstdint>
#include <string>

namespace meshlink::fakekube::testing {

inline std::string varint(uint64_t value) {
    std::string out;
    while (value >= 0x80) {
        out += static_cast<char>((value & 0x7F) | 0x80);
        value >>= 7;
    }
    out += static_cast<char>(value);
    return out;
}
// A length-delimited field (string, bytes, message, map entry).
inline std::string bytes_field(int number, const std::string& data) {
    return varint(static_cast<uint64_t>(number) << 3 | 2) + varint(data.size()) + data;
}
inline std::string varint_field(int number, uint64_t value) {
    return varint(static_cast<uint64_t>(number) << 3) + varint(value);
}
// The body a typed client sends: "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}.
inline std::string envelope(const std::string& api_version, const std::string& kind, const std::string& raw) {
    return std::string("k8s\0", 4) + bytes_field(1, bytes_field(1, api_version) + bytes_field(2, kind)) +
           bytes_field(2, raw);
}

} // namespace meshlink::fakekube::testing
