// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Escaping for the XML-based reports (JUnit, HTML with SVG).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace card::stress {

// Text safe inside an XML/HTML element or a double-quoted attribute: & < > " '
// escaped, and characters XML 1.0 forbids (most controls) replaced by '?'.
std::string XmlEscape(absl::string_view text);

}  // namespace card::stress
