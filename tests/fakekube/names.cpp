#include "tests/fakekube/names.hpp"

namespace meshlink::fakekube::names {
namespace {

bool lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

} // namespace

bool is_dns1123_label(std::string_view text) {
    if (text.empty() || !lower_alnum(text.front()) || !lower_alnum(text.back())) {
        return false;
    }
    for (char c : text) {
        if (!lower_alnum(c) && c != '-') {
            return false;
        }
    }
    return true;
}

bool is_dns1123_subdomain(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    size_t start = 0;
    while (true) {
        const size_t dot = text.find('.', start);
        if (!is_dns1123_label(
                text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        start = dot + 1;
    }
}

bool is_dns1035_label(std::string_view text) {
    return is_dns1123_label(text) && text.front() >= 'a' && text.front() <= 'z';
}

bool is_qualified_name_part(std::string_view text) {
    if (text.empty() || !alnum(text.front()) || !alnum(text.back())) {
        return false;
    }
    for (char c : text) {
        if (!alnum(c) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

bool is_config_key(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (char c : text) {
        if (!alnum(c) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

} // namespace meshlink::fakekube::names
