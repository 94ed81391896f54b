#include "node-agent/cli/command.hpp"

int main(int argc, char** argv) {
    return meshlink::agent::cli::run(argc, argv);
}
