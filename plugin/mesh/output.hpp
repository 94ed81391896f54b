#pragma once
// Human output of join, status and leave: progress lines on stderr, the terminal confirmation, the dry-run
// plan.

#include "plugin/mesh/session.hpp"

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace meshlink::plugin::mesh {

// "<verb>: <line>" on stderr.
std::function<void(const std::string&)> stderr_progress(std::string verb);

// Asks on stderr and reads a line from stdin: "y" or "yes" is consent.
std::function<bool(const std::string&)> terminal_confirm();

// The plan: one line per action (with its object or command below it), or with `yaml` the objects as a YAML
// stream with each action as a comment. Secret data is already redacted in the plan.
void print_plan(const std::vector<PlannedAction>& plan, bool yaml, std::ostream& out);

} // namespace meshlink::plugin::mesh
