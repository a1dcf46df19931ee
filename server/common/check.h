// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// CARD_CHECK: an invariant the code relies on, checked in every build
// (release too, unlike assert). On failure it logs where and what, then
// aborts: carrying on past a broken invariant corrupts state silently.
#pragma once

#include <cstdlib>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "server/common/log.h"

#define CARD_CHECK(condition, why)                                         \
  do {                                                                     \
    if (ABSL_PREDICT_FALSE(!(condition))) {                                \
      ::card::check_internal::Fail(__FILE__, __LINE__, #condition, (why)); \
    }                                                                      \
  } while (false)

namespace card::check_internal {

[[noreturn]] inline void Fail(const char* file, int line, const char* condition,
                              const char* why) {
  log::Error(absl::StrCat("invariant broken at ", file, ":", line, ": ", condition, " (",
                          why, ")"));
  std::abort();
}

}  // namespace card::check_internal
