//===- SharedModels.h - Where the tests find ../shared/models -*- C++ -*-===//
//
// Tests that need the real pretrained model read it from ../shared/models,
// which ctest passes as BRICK_MODELS_DIR; a missing variable fails the test
// loudly rather than skipping it.
//
//===----------------------------------------------------------------------===//

#ifndef BRICK_TESTS_UNIT_SHAREDMODELS_H
#define BRICK_TESTS_UNIT_SHAREDMODELS_H

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace brick_test {

inline std::string modelsDir() {
  const char *dir = std::getenv("BRICK_MODELS_DIR");
  if (!dir)
    ADD_FAILURE() << "BRICK_MODELS_DIR is not set; the tests need "
                     "../shared/models";
  return dir ? dir : "";
}

} // namespace brick_test

#endif // BRICK_TESTS_UNIT_SHAREDMODELS_H
