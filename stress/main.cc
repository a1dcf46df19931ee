// card-stress: fires thousands of parallel CardService RPCs, then checks what
// they did to the data. Exit codes: 0 pass, 1 invariant violated, 2 errors
// above --max_error_rate or verdict unknown, 3 threshold breached, 4 setup.
#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/time/clock.h"
#include "cli/command_line.h"
#include "stress/config.h"
#include "stress/load_runner.h"
#include "stress/report.h"
#include "stress/verifier.h"
#include "stress/workload.h"

int main(int argc, char** argv) {
  using namespace card::stress;
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
  if (!config.ok()) {
    std::fprintf(stderr, "card-stress: %s\n",
                 std::string(config.status().message()).c_str());
    return kExitSetup;
  }
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
      ConnectChannels(*config);
  if (!channels.ok()) {
    std::fprintf(stderr, "card-stress: %s\n",
                 std::string(channels.status().message()).c_str());
    return kExitSetup;
  }

  Workload workload(*config);
  Stats stats;
  RunResult result;
  result.config = &*config;
  result.stats = &stats;
  result.started = absl::Now();
  {
    LoadRunner runner(*config, *channels, &workload, &stats);
    runner.Run();
    result.elapsed = runner.elapsed();
  }
  result.cost = MeasureClientCost();  // the load's cost, before verification adds to it
  if (config->verify && config->scenario != Scenario::kHealth) {
    result.verification = Verify(*config, *channels, workload.TakeHistory());
  }
  Judge(result);

  const devcard::cardstress::v1::Report report_message = BuildReport(result);
  std::string report;
  if (config->format == "json") {
    absl::StatusOr<std::string> json = JsonReport(report_message);
    if (!json.ok()) {
      std::fprintf(stderr, "card-stress: cannot render the JSON report: %s\n",
                   std::string(json.status().message()).c_str());
      return kExitSetup;
    }
    report = *std::move(json);
  } else {
    report = TextReport(report_message);
  }
  if (config->output.empty()) {
    std::fwrite(report.data(), 1, report.size(), stdout);
  } else {
    std::ofstream out(config->output);
    out << report;
    if (!out) {
      std::fprintf(stderr, "card-stress: cannot write %s\n", config->output.c_str());
      return kExitSetup;
    }
    // A one-line verdict on stderr, so CI logs show it without the file.
    std::fprintf(stderr, "card-stress: %s %s: %s (exit %d), report in %s\n",
                 ScenarioName(config->scenario), config->user_prefix.c_str(),
                 result.exit_code == kExitPass ? "PASS" : "FAIL", result.exit_code,
                 config->output.c_str());
  }
  return result.exit_code;
}
