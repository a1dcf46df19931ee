// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Command-line handling shared by card-server, cardctl and card-stress.
//
// Abseil's ParseCommandLine exits 1 on a mistake and on --help, and 1 means
// something else to each of our binaries (card-stress: "invariant violated").
// So the command line is scanned once here first, the way Abseil will parse it,
// checking every flag and value: a mistake exits with the program's own usage
// code, --help prints the program's flags and exits 0, --helpfull every flag
// (Abseil's too) and exits 0, --version prints the version and exits 0. Only then does
// Abseil parse (and set the same values).
#ifndef CARD_CLI_COMMAND_LINE_H_
#define CARD_CLI_COMMAND_LINE_H_

#include <set>
#include <string>
#include <vector>

namespace card::cli {

// What the scan found.
struct CommandLine {
  std::vector<std::string> words;  // Positional arguments, in order.
  std::set<std::string> given;     // Names of the flags given (--nofoo counts as foo).
  bool help = false;               // --help, -h or --helpshort.
  bool helpfull = false;           // --helpfull.
  bool version = false;            // --version.
  std::string error;               // The first mistake; empty when there is none.
};

// Scans argv as absl::ParseCommandLine will (--name=value, --name value,
// --bool, --nobool, "--" ends the flags). --flagfile, --fromenv, --tryfromenv
// and --undefok are refused: flags set through them would not be checked.
CommandLine ScanCommandLine(int argc, char** argv);

// The program's own flags (not Abseil's), sorted by name, one entry each:
// "  --name=default\n      help text\n". With `names`, only those flags.
std::string FlagHelp();
std::string FlagHelp(const std::vector<std::string>& names);

// What --helpfull prints: Abseil's list of every flag with its type and
// default (the format scripts/deploy_checks reads), without Abseil's closing
// "Try --helpfull ..." hint, which only makes sense after an error.
std::string FullFlagHelp(const std::string& program, const std::string& usage);

// "<program> <version> (commit <hash>)", the commit left out when unknown.
std::string VersionLine(const std::string& program);

struct Program {
  std::string name;   // e.g. "card-server"
  std::string usage;  // printed first by --help
  int usage_exit_code;
};

// Scans, then handles --help / --version / mistakes (each exits), then lets
// Abseil parse. Returns the positional arguments.
std::vector<std::string> ParseCommandLineOrExit(int argc, char** argv,
                                                const Program& program);

// Prints "<program>: <message>" and the hint to run --help, to stderr.
void PrintUsageError(const std::string& program, const std::string& message);

}  // namespace card::cli

#endif  // CARD_CLI_COMMAND_LINE_H_
