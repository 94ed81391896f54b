#define BOOST_TEST_MODULE kubectl - meshlink unit tests
#include <boost/test/unit_test.hpp>
