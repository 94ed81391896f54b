#define BOOST_TEST_MODULE yaml unit tests
#include <boost/test/unit_test.hpp>
