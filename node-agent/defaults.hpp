#pragma once
// Every path, name, annotation key, port and interval meshlink-agent uses, written once.

#include <string_view>

namespace meshlink::agent::defaults {

inline constexpr std::string_view k_agent_name = "meshlink-agent";

} // namespace meshlink::agent::defaults
