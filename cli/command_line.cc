// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "cli/command_line.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/version.h"

namespace card::cli {
namespace {

bool IsHelpFlag(absl::string_view name) {
  return name == "help" || name == "h" || name == "helpshort";
}

// Abseil's other usage flags, which its parse handles (and exits 1 on).
bool IsAbseilUsageFlag(absl::string_view name) {
  return name == "helppackage" || name == "helpon" || name == "helpmatch" ||
         name == "only_check_args";
}

// A flag defined by Abseil itself (--flagfile and the like), not by us.
bool IsAbseilsOwnFlag(const absl::CommandLineFlag& flag) {
  return absl::StrContains(flag.Filename(), "absl/");
}

std::string OneFlagHelp(const absl::CommandLineFlag& flag) {
  std::string out = absl::StrCat("  --", flag.Name());
  std::string default_value = flag.DefaultValue();
  if (!default_value.empty() && default_value != "0" && default_value != "false") {
    absl::StrAppend(&out, "=", default_value);
  }
  absl::StrAppend(&out, "\n      ", flag.Help(), "\n");
  return out;
}

}  // namespace

CommandLine ScanCommandLine(int argc, char** argv) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) line.words.emplace_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      line.words.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t equals = arg.find('=');
    const bool has_value = equals != absl::string_view::npos;
    const absl::string_view name = arg.substr(0, equals);
    std::string value = has_value ? std::string(arg.substr(equals + 1)) : "";
    if (IsHelpFlag(name)) {
      line.help = true;
      continue;
    }
    if (name == "helpfull") {
      line.helpfull = true;
      continue;
    }
    if (name == "version") {
      line.version = true;
      continue;
    }
    if (IsAbseilUsageFlag(name)) {
      if (!has_value && (name == "helpon" || name == "helpmatch")) ++i;
      continue;
    }
    if (name == "flagfile" || name == "fromenv" || name == "tryfromenv" ||
        name == "undefok") {
      line.error = absl::StrCat("--", name,
                                " is not supported; give the flags on the command line");
      return line;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>() && !has_value) {
        line.given.insert(std::string(name.substr(2)));
        continue;
      }
    }
    if (flag == nullptr || IsAbseilsOwnFlag(*flag)) {
      line.error = absl::StrCat("unknown flag --", name);
      return line;
    }
    if (!has_value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        line.error = absl::StrCat("missing the value of --", name);
        return line;
      }
    }
    // Sets the flag; Abseil's parse sets the same value again later.
    std::string parse_error;
    if (!flag->ParseFrom(value, &parse_error)) {
      line.error = parse_error;  // Names the flag and the value.
      return line;
    }
    line.given.insert(std::string(name));
  }
  return line;
}

std::string FlagHelp() {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsAbseilsOwnFlag(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::string out;
  for (const absl::CommandLineFlag* flag : flags) out += OneFlagHelp(*flag);
  return out;
}

std::string FlagHelp(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name)) {
      out += OneFlagHelp(*flag);
    }
  }
  return out;
}

std::string FullFlagHelp(const std::string& program, const std::string& usage) {
  // Abseil's parse would have set it; the listing starts "<program>: <usage>".
  absl::flags_internal::SetProgramInvocationName(program);
  std::ostringstream out;
  absl::flags_internal::FlagsHelp(
      out, "", absl::flags_internal::HelpFormat::kHumanReadable, usage);
  std::string text = out.str();
  // Abseil 20220623 ends every listing with it; ParseCommandLine exits 1 after.
  const size_t hint = text.rfind("\nTry --helpfull");
  if (hint != std::string::npos) text.resize(hint + 1);
  return text;
}

std::string VersionLine(const std::string& program) {
  std::string line = absl::StrCat(program, " ", kVersion);
  if (kGitCommit[0] != '\0') absl::StrAppend(&line, " (commit ", kGitCommit, ")");
  return line;
}

void PrintUsageError(const std::string& program, const std::string& message) {
  std::cerr << program << ": " << message << "\nRun '" << program
            << " --help' for usage.\n";
}

std::vector<std::string> ParseCommandLineOrExit(int argc, char** argv,
                                                const Program& program) {
  absl::SetProgramUsageMessage(program.usage);
  CommandLine line = ScanCommandLine(argc, argv);
  if (!line.error.empty()) {
    PrintUsageError(program.name, line.error);
    std::exit(program.usage_exit_code);
  }
  if (line.help) {
    std::cout << program.usage << "\n\nFlags:\n" << FlagHelp();
    std::exit(0);
  }
  if (line.helpfull) {
    std::cout << FullFlagHelp(program.name, program.usage);
    std::exit(0);
  }
  if (line.version) {
    std::cout << VersionLine(program.name) << "\n";
    std::exit(0);
  }
  absl::ParseCommandLine(argc, argv);
  return line.words;
}

}  // namespace card::cli
