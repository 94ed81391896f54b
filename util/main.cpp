#include "util/main.hpp"

#include "util/error.hpp"

#include <exception>
#include <iostream>

namespace meshlink::util {

int run_main(const std::string& program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const Fatal& error) {
        std::cout.flush();
        std::cerr << program << ": error: " << error.what() << "\n";
        return error.exit_code();
    } catch (const std::exception& error) {
        std::cout.flush();
        std::cerr << program << ": internal error: " << error.what() << "\n";
        return 2;
    }
}

} // namespace meshlink::util
