#include "plugin/mesh/output.hpp"

#include "plugin/agent/manifests.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>

namespace meshlink::plugin::mesh {

std::function<void(const std::string&)> stderr_progress(std::string verb) {
    return [verb = std::move(verb)](const std::string& line) {
        std::cerr << verb << ": " << line << "\n" << std::flush;
    };
}

std::function<bool(const std::string&)> terminal_confirm() {
    return [](const std::string& question) {
        std::cerr << question << " [y/N] " << std::flush;
        std::string answer;
        if (!std::getline(std::cin, answer)) {
            return false;
        }
        return answer == "y" || answer == "Y" || answer == "yes";
    };
}

void print_plan(const std::vector<PlannedAction>& plan, bool yaml, std::ostream& out) {
    if (yaml) {
        for (const auto& action : plan) {
            out << "---\n# " << action.cluster << " [" << action.step << "] " << action.summary << "\n";
            if (!action.command.empty()) {
                out << "# command: " << fmt::format("{}", fmt::join(action.command, " ")) << "\n";
            }
            if (action.object && action.object->is_string()) {
                // A kubeconfig fragment, already YAML.
                std::string text = action.object->get<std::string>();
                out << text << (text.ends_with('\n') ? "" : "\n");
            } else if (action.object && action.object->is_object()) {
                std::string text = agent::to_yaml({*action.object});
                if (text.starts_with("---\n")) {
                    text.erase(0, 4);
                }
                out << text;
            } else if (action.object) {
                out << "# patch: " << action.object->dump() << "\n";
            }
        }
        return;
    }
    out << "Plan (" << plan.size() << " actions, nothing written):\n";
    for (const auto& action : plan) {
        out << "  " << action.cluster << " [" << action.step << "] " << action.summary << "\n";
        if (action.object && action.object->is_string()) {
            out << "    " << action.object->get<std::string>() << "\n";
        } else if (action.object) {
            out << "    " << action.object->dump() << "\n";
        }
    }
}

} // namespace meshlink::plugin::mesh
