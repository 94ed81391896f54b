#define BOOST_TEST_MODULE util unit tests
#include <boost/test/unit_test.hpp>
