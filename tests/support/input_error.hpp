#pragma once
// The message of the capsim::InputError that `f` throws (a test failure when it throws none).
#include <gtest/gtest.h>

#include <string>

#include "capsim/common/error.hpp"

namespace capsim::testing {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError thrown";
  return "";
}

}  // namespace capsim::testing
