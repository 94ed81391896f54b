#define BOOST_TEST_MODULE meshlink - agent unit tests
#include <boost/test/unit_test.hpp>
