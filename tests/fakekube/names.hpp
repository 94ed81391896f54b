#pragma once
// The name grammars of apimachinery's validation package, matched by hand (std::regex trips GCC 12's
// -Wmaybe-uninitialized in sanitizer builds, and is slow).

#include <string_view>

namespace meshlink::fakekube::names {

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool is_dns1123_label(std::string_view text);
// DNS-1123 labels joined by dots.
bool is_dns1123_subdomain(std::string_view text);
// [a-z]([-a-z0-9]*[a-z0-9])?
bool is_dns1035_label(std::string_view text);
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]  (the name part of a qualified name; also a non-empty label value)
bool is_qualified_name_part(std::string_view text);
// [-._a-zA-Z0-9]+
bool is_config_key(std::string_view text);

} // namespace meshlink::fakekube::names
