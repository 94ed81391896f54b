#pragma once
// Handler of every row in the verb table (verbs.cpp). Each is defined in the file named after its verb.

#include "plugin/cli/command.hpp"

namespace meshlink::plugin::cli {

int run_help(Invocation& invocation);       // verbs.cpp
int run_version(Invocation& invocation);    // version.cpp
int run_kubeconfig(Invocation& invocation); // kubeconfig.cpp
int run_preflight(Invocation& invocation);  // preflight.cpp
int run_agent(Invocation& invocation);      // agent.cpp
int run_kernel(Invocation& invocation);     // kernel.cpp
int run_join(Invocation& invocation);       // join.cpp
int run_status(Invocation& invocation);     // status.cpp
int run_leave(Invocation& invocation);      // leave.cpp
int run_completion(Invocation& invocation); // completion.cpp
int run_demo(Invocation& invocation);       // demo.cpp
int run_verify(Invocation& invocation);     // verify.cpp

} // namespace meshlink::plugin::cli
