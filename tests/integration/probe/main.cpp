#define BOOST_TEST_MODULE meshlink - agent probe integration tests
#include <boost/test/unit_test.hpp>
