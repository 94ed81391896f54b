#include "plugin/cli/command.hpp"

int main(int argc, char** argv) {
    return meshlink::plugin::cli::run(argc, argv);
}
