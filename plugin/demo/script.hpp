#pragma once
// plugin/demo/client.sh, embedded at build time (plugin/embed_text.cmake): what the `demo verify` Job runs.

#include <string_view>

namespace meshlink::plugin::demo {

std::string_view client_script();

} // namespace meshlink::plugin::demo
