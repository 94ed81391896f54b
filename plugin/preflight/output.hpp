#pragma once
// Preflight's human output: one line per check grouped by scope, hints under what needs action, a summary.
// Colour and symbols only on a terminal (util::Terminal), ASCII otherwise. The JSON form is to_json
// (check.hpp).

#include "plugin/preflight/check.hpp"
#include "util/terminal.hpp"

#include <ostream>
#include <vector>

namespace meshlink::plugin::preflight {

void print_table(const std::vector<Check>& checks, const util::Terminal& term, std::ostream& out);

} // namespace meshlink::plugin::preflight
