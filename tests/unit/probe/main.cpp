#define BOOST_TEST_MODULE probe unit tests
#include <boost/test/unit_test.hpp>
