// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The project's version (CMake's project(VERSION)) and the git commit it was
// built from, when the source tree was a git checkout at build time.
#ifndef CARD_CLI_VERSION_H_
#define CARD_CLI_VERSION_H_

namespace card::cli {

extern const char kVersion[];    // e.g. "1.0.0"
extern const char kGitCommit[];  // 12-hex-digit abbreviation, or "" when unknown

}  // namespace card::cli

#endif  // CARD_CLI_VERSION_H_
