#pragma once
// Handler of every row in the agent's verb table (verbs.cpp), each defined in the file named after its verb.

#include "node-agent/cli/command.hpp"

namespace meshlink::agent::cli {

int run_help(Invocation& invocation);       // verbs.cpp
int run_version(Invocation& invocation);    // verbs.cpp
int run_probe(Invocation& invocation);      // probe.cpp
int run_serve(Invocation& invocation);      // serve.cpp
int run_kernel(Invocation& invocation);     // kernel.cpp
int run_kernel_run(Invocation& invocation); // kernel_run.cpp (the `kernel run` row of kernel.cpp's table)

} // namespace meshlink::agent::cli
