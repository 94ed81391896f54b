#include "util/terminal.hpp"

#include <boost/test/unit_test.hpp>

using namespace meshlink::util;

BOOST_AUTO_TEST_SUITE(util_terminal)

// What a node or a cluster writes must not steer the terminal it is printed on.
BOOST_AUTO_TEST_CASE(printable_escapes_every_control) {
    BOOST_TEST(printable("worker-1 ok") == "worker-1 ok");
    // Clear screen, retitle the window (OSC ... BEL), a fake line after a carriage return.
    BOOST_TEST(printable("\x1b[2J\x1b]0;owned\x07") == "\\x1b[2J\\x1b]0;owned\\x07");
    BOOST_TEST(printable("bad\r\nall good") == "bad\\x0d\\x0aall good");
    BOOST_TEST(printable(std::string("nul\0tab\tdel\x7f", 12)) == "nul\\x00tab\\x09del\\x7f");
    // C1 controls in UTF-8 (U+009B is CSI on terminals that honour 8-bit controls) and raw bytes that are not
    // UTF-8 (a terminal in a Latin-1 mode reads 0x9b as CSI too).
    BOOST_TEST(printable("\xc2\x9b"
                         "31m") == "\\u009b31m");
    BOOST_TEST(printable("\x9b"
                         "31m") == "\\x9b31m");
    // Bidirectional overrides reorder what is shown.
    BOOST_TEST(printable("abc\xe2\x80\xae"
                         "def") == "abc\\u202edef");
    // Other UTF-8 is kept as it is, including 4-byte sequences; broken sequences are escaped byte by byte.
    BOOST_TEST(printable("Grüße ✔ 𝄞") == "Grüße ✔ 𝄞");
    BOOST_TEST(printable("\xe2\x9c") == "\\xe2\\x9c");
    BOOST_TEST(printable("\xc0\xaf") == "\\xc0\\xaf");                   // overlong '/'
    BOOST_TEST(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");          // a surrogate
    BOOST_TEST(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // above U+10FFFF
}

BOOST_AUTO_TEST_SUITE_END()
