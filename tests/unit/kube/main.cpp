#define BOOST_TEST_MODULE kube unit tests
#include <boost/test/unit_test.hpp>
