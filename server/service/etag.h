// Etags: opaque to callers, derived from the card's version counter, which
// every change bumps.
#pragma once

#include <cstdint>
#include <string>

namespace card::service {

inline std::string EtagForVersion(int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

}  // namespace card::service
