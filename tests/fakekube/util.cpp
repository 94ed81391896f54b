#include "tests/fakekube/util.hpp"

#include "util/base64.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace meshlink::fakekube {
namespace {

std::mt19937_64& rng() {
    thread_local std::mt19937_64 engine(std::random_device{}());
    return engine;
}

} // namespace

std::string new_uid() {
    const uint64_t high = rng()();
    const uint64_t low = rng()();
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                  static_cast<unsigned>((high >> 16) & 0xffff), static_cast<unsigned>(high & 0x0fff),
                  static_cast<unsigned>(0x8000 | ((low >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(low & 0xffffffffffffULL));
    return buffer;
}

std::string random_suffix() {
    static constexpr std::string_view k_alphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string out;
    std::uniform_int_distribution<size_t> pick(0, k_alphabet.size() - 1);
    for (int i = 0; i < 5; ++i) {
        out += k_alphabet[pick(rng())];
    }
    return out;
}

std::string media_type(std::string_view content_type) {
    std::string out(content_type.substr(0, content_type.find(';')));
    out.erase(std::remove_if(out.begin(), out.end(),
                             [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }),
              out.end());
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    return out;
}

Representation negotiate(std::string_view accept) {
    // The first acceptable entry wins, as kube-apiserver's negotiation does.
    size_t start = 0;
    while (start <= accept.size()) {
        size_t comma = accept.find(',', start);
        std::string_view entry =
            accept.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        std::string lowered(entry);
        lowered.erase(std::remove(lowered.begin(), lowered.end(), ' '), lowered.end());
        std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                       [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
        const bool meta_group = lowered.find("g=meta.k8s.io") != std::string::npos;
        if (lowered.find("as=table") != std::string::npos && meta_group) {
            return Representation::table;
        }
        if (lowered.find("as=partialobjectmetadata") != std::string::npos && meta_group) {
            return Representation::partial_metadata;
        }
        if (lowered.find("as=") == std::string::npos &&
            (lowered.rfind("application/json", 0) == 0 || lowered.rfind("*/*", 0) == 0 || lowered.empty())) {
            return Representation::object;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return Representation::object;
}

bool accepts_json(std::string_view accept) {
    if (accept.find_first_not_of(" \t") == std::string_view::npos) {
        return true;
    }
    size_t start = 0;
    while (start <= accept.size()) {
        const size_t comma = accept.find(',', start);
        const std::string type =
            media_type(accept.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (type == "application/json" || type == "*/*" || type == "application/*") {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return false;
}

std::string encode_continue(uint64_t revision, const std::string& last_key) {
    return util::base64_encode(json{{"rv", revision}, {"start", last_key}}.dump());
}

std::optional<std::pair<uint64_t, std::string>> decode_continue(const std::string& token) {
    auto text = util::base64_decode(token);
    if (!text) {
        return std::nullopt;
    }
    json parsed = json::parse(*text, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("rv") || !parsed["rv"].is_number_unsigned() ||
        !parsed.contains("start") || !parsed["start"].is_string()) {
        return std::nullopt;
    }
    return std::make_pair(parsed["rv"].get<uint64_t>(), parsed["start"].get<std::string>());
}

const json& child(const json& object, std::string_view key) {
    static const json k_empty = json::object();
    if (!object.is_object()) {
        return k_empty;
    }
    auto it = object.find(std::string(key));
    return it == object.end() || it->is_null() ? k_empty : *it;
}

} // namespace meshlink::fakekube
