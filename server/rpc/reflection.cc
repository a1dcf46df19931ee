// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/rpc/reflection.h"

#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/impl/server_initializer.h"

namespace card::rpc {
namespace {

namespace v1 = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

// One reflection stream: what gRPC's v1alpha service answers, for v1. A file
// is sent once per stream, followed by those of its dependencies not sent yet.
class ReflectionV1Service final : public v1::ServerReflection::Service {
 public:
  void SetServiceList(const std::vector<std::string>* services) { services_ = services; }

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<v1::ServerReflectionResponse, v1::ServerReflectionRequest>*
          stream) override {
    std::unordered_set<std::string> sent;
    v1::ServerReflectionRequest request;
    while (stream->Read(&request)) {
      v1::ServerReflectionResponse response;
      response.set_valid_host(request.host());
      *response.mutable_original_request() = request;
      grpc::Status status = Answer(request, &response, &sent);
      if (!status.ok()) {
        response.mutable_error_response()->set_error_code(status.error_code());
        response.mutable_error_response()->set_error_message(status.error_message());
      }
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  grpc::Status Answer(const v1::ServerReflectionRequest& request,
                      v1::ServerReflectionResponse* response,
                      std::unordered_set<std::string>* sent) const {
    const DescriptorPool* pool = DescriptorPool::generated_pool();
    switch (request.message_request_case()) {
      case v1::ServerReflectionRequest::kListServices:
        if (services_ != nullptr) {
          for (const std::string& name : *services_) {
            response->mutable_list_services_response()->add_service()->set_name(name);
          }
        }
        return grpc::Status::OK;
      case v1::ServerReflectionRequest::kFileByFilename:
        return AddFile(pool->FindFileByName(request.file_by_filename()),
                       "File not found.", response, sent);
      case v1::ServerReflectionRequest::kFileContainingSymbol:
        return AddFile(pool->FindFileContainingSymbol(request.file_containing_symbol()),
                       "Symbol not found.", response, sent);
      case v1::ServerReflectionRequest::kFileContainingExtension: {
        const auto& wanted = request.file_containing_extension();
        const auto* type = pool->FindMessageTypeByName(wanted.containing_type());
        if (type == nullptr) return NotFound("Type not found.");
        const auto* extension =
            pool->FindExtensionByNumber(type, wanted.extension_number());
        if (extension == nullptr) return NotFound("Extension not found.");
        return AddFile(extension->file(), "", response, sent);
      }
      case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const auto* type =
            pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (type == nullptr) return NotFound("Type not found.");
        std::vector<const google::protobuf::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* numbers = response->mutable_all_extension_numbers_response();
        numbers->set_base_type_name(type->full_name());
        for (const auto* extension : extensions)
          numbers->add_extension_number(extension->number());
        return grpc::Status::OK;
      }
      default:
        return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            "The request is not supported.");
    }
  }

  static grpc::Status NotFound(const char* message) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, message);
  }

  static grpc::Status AddFile(const FileDescriptor* file, const char* not_found,
                              v1::ServerReflectionResponse* response,
                              std::unordered_set<std::string>* sent) {
    if (file == nullptr) return NotFound(not_found);
    AddWithDependencies(file, response, sent);
    return grpc::Status::OK;
  }

  static void AddWithDependencies(const FileDescriptor* file,
                                  v1::ServerReflectionResponse* response,
                                  std::unordered_set<std::string>* sent) {
    if (!sent->insert(file->name()).second) return;
    google::protobuf::FileDescriptorProto proto;
    file->CopyTo(&proto);
    proto.SerializeToString(
        response->mutable_file_descriptor_response()->add_file_descriptor_proto());
    for (int i = 0; i < file->dependency_count(); ++i) {
      AddWithDependencies(file->dependency(i), response, sent);
    }
  }

  const std::vector<std::string>* services_ = nullptr;  // owned by the grpc::Server
};

// Registers the service when the server is built and hands it the server's
// service list once every service (health included) is registered.
class ReflectionV1Plugin final : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "card_reflection_v1"; }
  void InitServer(grpc::ServerInitializer* server) override {
    server->RegisterService(service_);
  }
  void Finish(grpc::ServerInitializer* server) override {
    service_->SetServiceList(server->GetServiceList());
  }
  void ChangeArguments(const std::string& /*name*/, void* /*value*/) override {}
  bool has_sync_methods() const override { return true; }

 private:
  std::shared_ptr<ReflectionV1Service> service_ = std::make_shared<ReflectionV1Service>();
};

class ReflectionV1BuilderOption final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(
      std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ReflectionV1Plugin>());
  }
};

}  // namespace

void EnableReflection() {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Referencing a generated message keeps health.pb.cc (and with it the
  // registration of grpc/health/v1/health.proto in the generated pool) linked.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
}

std::unique_ptr<grpc::ServerBuilderOption> ReflectionV1Option() {
  return std::make_unique<ReflectionV1BuilderOption>();
}

}  // namespace card::rpc
