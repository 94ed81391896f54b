#define BOOST_TEST_MODULE fakekube unit tests
#include <boost/test/unit_test.hpp>
