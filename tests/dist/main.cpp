#define BOOST_TEST_MODULE release artefact tests
#include <boost/test/unit_test.hpp>
