// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// cardctl: the command-line client of devcard.card.v1.CardService.
//
//   cardctl [--target=...] [--output=table|json] <command> [flags]
//
// Flags are Abseil flags. Before Abseil parses them, cardctl scans the command
// line once itself, to learn which flags were given (the update mask is built
// from them), to refuse flags the command does not take, and to report every
// command-line mistake with exit code 2 (Abseil would exit 1).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "client/card_client.h"
#include "client/cardctl_errors.h"
#include "client/cardctl_output.h"
#include "client/client_flags.h"
#include "grpc/support/log.h"

namespace card::cardctl {

// --visibility: public, unlisted or private (any case); "" leaves it unset.
struct VisibilityFlag {
  v1::Visibility value = v1::VISIBILITY_UNSPECIFIED;
};

bool AbslParseFlag(absl::string_view text, VisibilityFlag* flag, std::string* error) {
  std::string name = absl::AsciiStrToLower(text);
  if (name.empty() || name == "unspecified") {
    flag->value = v1::VISIBILITY_UNSPECIFIED;
  } else if (name == "public") {
    flag->value = v1::VISIBILITY_PUBLIC;
  } else if (name == "unlisted") {
    flag->value = v1::VISIBILITY_UNLISTED;
  } else if (name == "private") {
    flag->value = v1::VISIBILITY_PRIVATE;
  } else {
    *error = "must be public, unlisted or private";
    return false;
  }
  return true;
}

std::string AbslUnparseFlag(const VisibilityFlag& flag) {
  return VisibilityName(flag.value);
}

bool AbslParseFlag(absl::string_view text, Format* format, std::string* error) {
  if (text == "table") {
    *format = Format::kTable;
  } else if (text == "json") {
    *format = Format::kJson;
  } else {
    *error = "must be table or json";
    return false;
  }
  return true;
}

std::string AbslUnparseFlag(Format format) {
  return format == Format::kJson ? "json" : "table";
}

}  // namespace card::cardctl

// Global flags.
// Defined in client_flags.cc; read here for the missing-certificate hint.
ABSL_DECLARE_FLAG(bool, tls);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "Server address, host:port.");
// The TLS flags: client/client_flags.h.
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "Deadline of each call (e.g. 500ms, 10s); retries happen within it.");
ABSL_FLAG(
    card::cardctl::Format, output, card::cardctl::Format::kTable,
    "table (aligned columns, for people) or json (proto JSON, one object per line).");

// Command flags; each command takes only some of them (see --help).
ABSL_FLAG(std::string, user_id, "", "The user (owner of the cards and links).");
ABSL_FLAG(std::string, card_id, "", "A card's id.");
ABSL_FLAG(std::string, title, "", "Card title, 1-100 characters.");
ABSL_FLAG(std::string, description, "", "Card description, at most 100 characters.");
ABSL_FLAG(card::cardctl::VisibilityFlag, visibility, {},
          "public, unlisted or private (create: default public).");
ABSL_FLAG(bool, qr, false, "Show a QR code on the card (update: --qr=true|false).");
ABSL_FLAG(std::vector<std::string>, link_ids, {},
          "Comma-separated platform link ids, in display order (update: --link_ids= "
          "removes every link).");
ABSL_FLAG(std::string, request_id, "",
          "Idempotency key of a create (default: a new random UUID). Repeat a create "
          "that timed out with the same key to avoid a second card.");
ABSL_FLAG(std::string, etag, "",
          "Only change the card if this is still its etag (ABORTED otherwise).");
ABSL_FLAG(std::string, slug, "", "A shared card's slug.");
ABSL_FLAG(std::string, platform, "", "Link platform, e.g. github.");
ABSL_FLAG(std::string, username, "", "Link username on the platform.");
ABSL_FLAG(std::string, url, "", "Link URL, http or https.");
ABSL_FLAG(int32_t, display_order, 0, "Link's preferred position.");
ABSL_FLAG(std::string, link_id, "", "A platform link's id.");
ABSL_FLAG(int32_t, page_size, 0,
          "Page size of each list call (default: the server's); every page is fetched.");
ABSL_FLAG(std::string, service, "",
          "Health: service name to check (default: the whole server).");

namespace card::cardctl {
namespace {

constexpr char kUsage[] = R"(cardctl: command-line client of devcard.card.v1.CardService.

Usage: cardctl [global flags] <command> [command flags]

Global flags: --target, --timeout, --output; TLS: --tls [--tls_ca_file]
[--tls_server_name] [--tls_cert_file --tls_key_file] (the last two: this
client's certificate, for servers that require one).

Commands (flags in [] are optional):
  create       --user_id --title [--description] [--visibility=public|unlisted|private]
               [--qr] [--link_ids=a,b] [--request_id]
  get          --user_id --card_id
  list         --user_id [--page_size]                  every page, oldest first
  update       --user_id --card_id [--title] [--description] [--visibility]
               [--qr=true|false] [--link_ids=a,b] [--etag]
               only the fields given are changed (at least one)
  delete       --user_id --card_id [--etag]
  set-default  --user_id --card_id
  get-default  --user_id
  shared       --slug
  links create --user_id --platform --username --url [--display_order]
  links list   --user_id [--page_size]                  every page
  links delete --user_id --link_id
  health       [--service]                              prints SERVING, NOT_SERVING, ...
  help                                                  this text

Output (--output): table, or json: the response message in proto JSON on one
line (proto field names, enums by name, default values included). list prints
one devcard.card.v1.ListCardsResponse with every card, links list one
ListPlatformLinksResponse with every link; delete commands print {}; health a
grpc.health.v1.HealthCheckResponse.

Errors go to stderr as "CODE_NAME: message", then "  field: description" for
each field the server names.

Exit codes:
  0  ok (health: SERVING)
  1  any other error (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS)
  2  usage error: bad command line, nothing was sent
  3  invalid input: INVALID_ARGUMENT, OUT_OF_RANGE
  4  not found: NOT_FOUND
  5  conflict or precondition: ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED
  6  permission: PERMISSION_DENIED, UNAUTHENTICATED
  7  unavailable or timeout: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
     CANCELLED; health not SERVING
)";

const std::vector<std::string> kGlobalFlags = {
    "target",        "tls",          "tls_ca_file", "tls_server_name",
    "tls_cert_file", "tls_key_file", "timeout",     "output"};

// What a command runs with.
struct Context {
  client::CardClient& client;
  Format format;
  const std::set<std::string>& given;
};

struct Command {
  std::string name;
  std::vector<std::string> required;
  std::vector<std::string> optional;
  std::function<int(Context&)> run;
};

int Fail(const grpc::Status& status) {
  PrintError(std::cerr, status);
  if (LooksLikeMissingClientCertificate(status, absl::GetFlag(FLAGS_tls),
                                        !absl::GetFlag(FLAGS_tls_cert_file).empty())) {
    std::cerr << "hint: the server requires a client certificate "
                 "(--tls_cert_file/--tls_key_file)\n";
  }
  return ExitCodeFor(status.error_code());
}

std::string NewUuid() {
  absl::BitGen gen;
  uint64_t high = absl::Uniform<uint64_t>(gen);
  uint64_t low = absl::Uniform<uint64_t>(gen);
  high = (high & ~uint64_t{0xF000}) | uint64_t{0x4000};          // version 4
  low = (low & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // RFC 4122 variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", high >> 32, (high >> 16) & 0xFFFF,
                         high & 0xFFFF, low >> 48, low & 0xFFFFFFFFFFFFULL);
}

int Create(Context& context) {
  v1::CreateCardRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  request.mutable_card()->set_title(absl::GetFlag(FLAGS_title));
  request.mutable_card()->set_description(absl::GetFlag(FLAGS_description));
  request.mutable_card()->set_visibility(absl::GetFlag(FLAGS_visibility).value);
  request.mutable_card()->set_qr_enabled(absl::GetFlag(FLAGS_qr));
  for (const std::string& id : absl::GetFlag(FLAGS_link_ids)) request.add_link_ids(id);
  // Always a request_id: it is what makes the automatic retry of CreateCard safe.
  request.set_request_id(
      context.given.count("request_id") ? absl::GetFlag(FLAGS_request_id) : NewUuid());
  v1::Card card;
  grpc::Status status = context.client.CreateCard(request, &card);
  if (!status.ok()) {
    int code = Fail(status);
    if (code == kExitUnavailable) {
      std::cerr << "The card may or may not have been created. Repeat with --request_id="
                << request.request_id() << " to get it without creating a second one.\n";
    }
    return code;
  }
  PrintCard(std::cout, card, context.format);
  return kExitOk;
}

int Get(Context& context) {
  v1::GetCardRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  request.set_card_id(absl::GetFlag(FLAGS_card_id));
  v1::Card card;
  grpc::Status status = context.client.GetCard(request, &card);
  if (!status.ok()) return Fail(status);
  PrintCard(std::cout, card, context.format);
  return kExitOk;
}

int List(Context& context) {
  std::vector<v1::Card> cards;
  grpc::Status status = context.client.ListAllCards(
      absl::GetFlag(FLAGS_user_id), absl::GetFlag(FLAGS_page_size), &cards);
  if (!status.ok()) return Fail(status);
  PrintCards(std::cout, cards, context.format);
  return kExitOk;
}

int Update(Context& context) {
  v1::UpdateCardRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  v1::Card* card = request.mutable_card();
  card->set_id(absl::GetFlag(FLAGS_card_id));
  card->set_etag(absl::GetFlag(FLAGS_etag));
  google::protobuf::FieldMask* mask = request.mutable_update_mask();
  if (context.given.count("title")) {
    card->set_title(absl::GetFlag(FLAGS_title));
    mask->add_paths("title");
  }
  if (context.given.count("description")) {
    card->set_description(absl::GetFlag(FLAGS_description));
    mask->add_paths("description");
  }
  if (context.given.count("visibility")) {
    card->set_visibility(absl::GetFlag(FLAGS_visibility).value);
    mask->add_paths("visibility");
  }
  if (context.given.count("qr")) {
    card->set_qr_enabled(absl::GetFlag(FLAGS_qr));
    mask->add_paths("qr_enabled");
  }
  if (context.given.count("link_ids")) {
    for (const std::string& id : absl::GetFlag(FLAGS_link_ids)) request.add_link_ids(id);
    mask->add_paths("links");
  }
  v1::Card updated;
  grpc::Status status = context.client.UpdateCard(request, &updated);
  if (!status.ok()) return Fail(status);
  PrintCard(std::cout, updated, context.format);
  return kExitOk;
}

int Delete(Context& context) {
  v1::DeleteCardRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  request.set_card_id(absl::GetFlag(FLAGS_card_id));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  grpc::Status status = context.client.DeleteCard(request);
  if (!status.ok()) return Fail(status);
  if (context.format == Format::kJson) {
    std::cout << ToJson(google::protobuf::Empty()) << "\n";
  } else {
    std::cout << "deleted card " << request.card_id() << "\n";
  }
  return kExitOk;
}

int SetDefault(Context& context) {
  v1::SetDefaultCardRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  request.set_card_id(absl::GetFlag(FLAGS_card_id));
  v1::Card card;
  grpc::Status status = context.client.SetDefaultCard(request, &card);
  if (!status.ok()) return Fail(status);
  PrintCard(std::cout, card, context.format);
  return kExitOk;
}

int GetDefault(Context& context) {
  v1::GetDefaultCardRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  v1::Card card;
  grpc::Status status = context.client.GetDefaultCard(request, &card);
  if (!status.ok()) return Fail(status);
  PrintCard(std::cout, card, context.format);
  return kExitOk;
}

int Shared(Context& context) {
  v1::GetSharedCardRequest request;
  request.set_slug(absl::GetFlag(FLAGS_slug));
  v1::SharedCard card;
  grpc::Status status = context.client.GetSharedCard(request, &card);
  if (!status.ok()) return Fail(status);
  PrintSharedCard(std::cout, card, context.format);
  return kExitOk;
}

int LinksCreate(Context& context) {
  v1::CreatePlatformLinkRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  request.mutable_link()->set_platform(absl::GetFlag(FLAGS_platform));
  request.mutable_link()->set_username(absl::GetFlag(FLAGS_username));
  request.mutable_link()->set_url(absl::GetFlag(FLAGS_url));
  request.mutable_link()->set_display_order(absl::GetFlag(FLAGS_display_order));
  v1::PlatformLink link;
  grpc::Status status = context.client.CreatePlatformLink(request, &link);
  if (!status.ok()) return Fail(status);
  PrintLink(std::cout, link, context.format);
  return kExitOk;
}

int LinksList(Context& context) {
  std::vector<v1::PlatformLink> links;
  grpc::Status status = context.client.ListAllPlatformLinks(
      absl::GetFlag(FLAGS_user_id), absl::GetFlag(FLAGS_page_size), &links);
  if (!status.ok()) return Fail(status);
  PrintLinks(std::cout, links, context.format);
  return kExitOk;
}

int LinksDelete(Context& context) {
  v1::DeletePlatformLinkRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  request.set_link_id(absl::GetFlag(FLAGS_link_id));
  grpc::Status status = context.client.DeletePlatformLink(request);
  if (!status.ok()) return Fail(status);
  if (context.format == Format::kJson) {
    std::cout << ToJson(google::protobuf::Empty()) << "\n";
  } else {
    std::cout << "deleted link " << request.link_id() << "\n";
  }
  return kExitOk;
}

int Health(Context& context) {
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      context.client.CheckHealth(absl::GetFlag(FLAGS_service), &response);
  if (!status.ok()) return Fail(status);
  if (context.format == Format::kJson) {
    std::cout << ToJson(response) << "\n";
  } else {
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                     response.status())
              << "\n";
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? kExitOk
             : kExitUnavailable;
}

const std::vector<Command>& Commands() {
  static const auto* const kCommands = new std::vector<Command>{
      {"create",
       {"user_id", "title"},
       {"description", "visibility", "qr", "link_ids", "request_id"},
       Create},
      {"get", {"user_id", "card_id"}, {}, Get},
      {"list", {"user_id"}, {"page_size"}, List},
      {"update",
       {"user_id", "card_id"},
       {"title", "description", "visibility", "qr", "link_ids", "etag"},
       Update},
      {"delete", {"user_id", "card_id"}, {"etag"}, Delete},
      {"set-default", {"user_id", "card_id"}, {}, SetDefault},
      {"get-default", {"user_id"}, {}, GetDefault},
      {"shared", {"slug"}, {}, Shared},
      {"links create",
       {"user_id", "platform", "username", "url"},
       {"display_order"},
       LinksCreate},
      {"links list", {"user_id"}, {"page_size"}, LinksList},
      {"links delete", {"user_id", "link_id"}, {}, LinksDelete},
      {"health", {}, {"service"}, Health},
  };
  return *kCommands;
}

void PrintHelp() {
  std::cout << kUsage << "\nGlobal flags:\n"
            << card::cli::FlagHelp(kGlobalFlags) << "\nCommand flags:\n";
  std::set<std::string> names;
  for (const Command& command : Commands()) {
    names.insert(command.required.begin(), command.required.end());
    names.insert(command.optional.begin(), command.optional.end());
  }
  std::cout << card::cli::FlagHelp({names.begin(), names.end()});
}

// Checks the command line against the command; empty when it fits.
std::string CheckFlags(const Command& command, const std::set<std::string>& given) {
  for (const std::string& name : given) {
    bool known = std::count(kGlobalFlags.begin(), kGlobalFlags.end(), name) +
                     std::count(command.required.begin(), command.required.end(), name) +
                     std::count(command.optional.begin(), command.optional.end(), name) >
                 0;
    if (!known) return absl::StrCat(command.name, " does not take --", name);
  }
  for (const std::string& name : command.required) {
    if (!given.count(name)) return absl::StrCat(command.name, " needs --", name);
  }
  if (command.name == "update") {
    const std::vector<std::string> fields = {"title", "description", "visibility", "qr",
                                             "link_ids"};
    if (std::none_of(fields.begin(), fields.end(),
                     [&](const std::string& name) { return given.count(name) > 0; })) {
      return "update needs at least one of --title, --description, --visibility, --qr, "
             "--link_ids";
    }
  }
  if (absl::GetFlag(FLAGS_timeout) <= absl::ZeroDuration())
    return "--timeout must be positive";
  return "";
}

int UsageFailure(const std::string& message) {
  card::cli::PrintUsageError("cardctl", message);
  return kExitUsage;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  // cardctl reports failures itself; gRPC's own log lines (e.g. about a failed
  // TLS handshake) would only repeat them. Setting GRPC_VERBOSITY brings them back.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) {
    gpr_set_log_function([](gpr_log_func_args*) {});
  }
  card::cli::CommandLine invocation = card::cli::ScanCommandLine(argc, argv);
  if (!invocation.error.empty()) return UsageFailure(invocation.error);
  // Before Abseil's parse, which would exit 1 after printing its own help.
  if (invocation.help ||
      (invocation.words.size() == 1 && invocation.words[0] == "help")) {
    PrintHelp();
    return kExitOk;
  }
  if (invocation.helpfull) {
    std::cout << card::cli::FullFlagHelp("cardctl", kUsage);
    return kExitOk;
  }
  if (invocation.version) {
    std::cout << card::cli::VersionLine("cardctl") << "\n";
    return kExitOk;
  }
  // Sets the same values again.
  absl::ParseCommandLine(argc, argv);
  if (invocation.words.empty()) return UsageFailure("no command given");

  const Command* command = nullptr;
  size_t used = 0;
  for (const Command& candidate : Commands()) {
    std::vector<std::string> parts = absl::StrSplit(candidate.name, ' ');
    if (invocation.words.size() >= parts.size() &&
        std::equal(parts.begin(), parts.end(), invocation.words.begin())) {
      command = &candidate;
      used = parts.size();
      break;
    }
  }
  if (command == nullptr && invocation.words[0] == "links") {
    return UsageFailure("links needs a subcommand: create, list or delete");
  }
  if (command == nullptr) {
    return UsageFailure(
        absl::StrCat("unknown command \"", absl::StrJoin(invocation.words, " "), "\""));
  }
  if (used < invocation.words.size()) {
    return UsageFailure(
        absl::StrCat("unexpected argument \"", invocation.words[used], "\""));
  }
  std::string mismatch = CheckFlags(*command, invocation.given);
  if (!mismatch.empty()) return UsageFailure(mismatch);

  client::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  client::ApplyTlsFlags(options);
  absl::StatusOr<std::unique_ptr<client::CardClient>> client =
      client::CardClient::Connect(options);
  if (!client.ok()) return UsageFailure(std::string(client.status().message()));
  Context context{**client, absl::GetFlag(FLAGS_output), invocation.given};
  return command->run(context);
}

}  // namespace
}  // namespace card::cardctl

int main(int argc, char** argv) { return card::cardctl::Main(argc, argv); }
