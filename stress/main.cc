// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// card-stress: fires thousands of parallel CardService RPCs, then checks what
// they did to the data. Exit codes: 0 pass, 1 invariant violated, 2 errors
// above --max_error_rate or verdict unknown, 3 threshold breached, 4 usage or
// setup error.
#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/time/clock.h"
#include "cli/command_line.h"
#include "stress/config.h"
#include "stress/database_check.h"
#include "stress/flags.h"
#include "stress/grpc_engine.h"
#include "stress/h2c_engine.h"
#include "stress/load_runner.h"
#include "stress/report.h"
#include "stress/verifier.h"
#include "stress/workload.h"

namespace {

using namespace card::stress;

int SetupError(absl::string_view message) {
  std::fprintf(stderr, "card-stress: %s\n", std::string(message).c_str());
  return kExitSetup;
}

// Writes `format` of the report to `path` ("" : stdout).
bool Write(const devcard::cardstress::v1::Report& report, const std::string& format,
           const std::string& path) {
  absl::StatusOr<std::string> text = RenderReport(report, format);
  if (!text.ok()) {
    SetupError(
        absl::StrCat("cannot render the ", format, " report: ", text.status().message()));
    return false;
  }
  if (path.empty()) {
    std::fwrite(text->data(), 1, text->size(), stdout);
    return true;
  }
  std::ofstream out(path);
  out << *text;
  if (!out) {
    SetupError(absl::StrCat("cannot write ", path));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const card::cli::Program program{
      "card-stress",
      "Load and invariant-verification client for CardService.\n"
      "  card-stress --target=127.0.0.1:50051 --scenario=first-card --users=500 "
      "--burst=20\n"
      "  card-stress --scenario=mixed --users=20 --requests=20000 --concurrency=1000\n"
      "Exit codes: 0 pass, 1 invariant violated, 2 errors above --max_error_rate or "
      "verdict unknown, 3 threshold breached, 4 usage or setup error.",
      kExitSetup};
  if (!card::cli::ParseCommandLineOrExit(argc, argv, program).empty()) {
    card::cli::PrintUsageError(program.name, "takes no positional arguments");
    return kExitSetup;
  }
  // gRPC completes calls on many threads; glibc's per-thread malloc arenas
  // would otherwise keep every thread's high-water mark of call buffers.
  mallopt(M_ARENA_MAX, 2);
  absl::StatusOr<Config> config = ConfigFromFlags();
  if (!config.ok()) {  // a bad value: the usage hint, exit 4
    card::cli::PrintUsageError(program.name, std::string(config.status().message()));
    return kExitSetup;
  }
  if (!config->database_url.empty()) {
    absl::Status database = CheckDatabase(config->database_url);
    if (!database.ok()) return SetupError(database.message());
  }
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
      ConnectChannels(*config);
  if (!channels.ok()) return SetupError(channels.status().message());

  std::unique_ptr<LoadEngine> engine;
  if (config->engine == Engine::kH2c) {
    absl::StatusOr<std::unique_ptr<H2cTransport>> connected =
        H2cTransport::Connect(config->targets, config->connections);
    if (!connected.ok()) return SetupError(connected.status().message());
    absl::Status ready = (*connected)->WaitConnected(absl::Now() + absl::Seconds(10));
    if (!ready.ok()) return SetupError(ready.message());
    engine = std::make_unique<H2cEngine>(*std::move(connected));
  } else {
    engine = std::make_unique<GrpcEngine>(*channels);
  }

  Workload workload(*config);
  Stats stats;
  RunResult result;
  result.config = &*config;
  result.stats = &stats;
  result.started = absl::Now();
  {
    LoadRunner runner(*config, engine.get(), &workload, &stats);
    runner.Run();
    result.elapsed = runner.elapsed();
    result.warmup = std::clamp(stats.measured_start() - result.started,
                               absl::ZeroDuration(), result.elapsed);
  }
  result.cost = MeasureClientCost();  // the load's cost, before verification adds to it
  engine.reset();  // its threads and connections end before verification
  if (config->scenario == Scenario::kHealth) {
    result.verification.not_run_reason =
        "not applicable (the health scenario writes no data)";
  } else if (!config->verify) {
    result.verification.not_run_reason = "off (--verify=false)";
  } else {
    result.verification = Verify(*config, *channels, workload.TakeHistory());
  }
  Judge(result);

  const devcard::cardstress::v1::Report report = BuildReport(result);
  if (!Write(report, config->format, config->output)) return kExitSetup;
  for (const auto& [format, path] :
       {std::pair{"json", config->json_output}, std::pair{"junit", config->junit_output},
        std::pair{"html", config->html_output}}) {
    if (!path.empty() && !Write(report, format, path)) return kExitSetup;
  }
  if (!config->output.empty()) {
    // A one-line verdict on stderr, so CI logs show it without the file.
    std::fprintf(stderr, "card-stress: %s %s: %s (exit %d), report in %s\n",
                 ScenarioName(config->scenario), config->user_prefix.c_str(),
                 VerdictWords(report).c_str(), result.exit_code, config->output.c_str());
  }
  return result.exit_code;
}
