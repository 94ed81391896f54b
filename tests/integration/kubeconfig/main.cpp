#define BOOST_TEST_MODULE kubeconfig integration tests
#include <boost/test/unit_test.hpp>
