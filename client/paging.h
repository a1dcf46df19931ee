// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Reading every page of a paged list call, in one place: CardClient's
// ListAllCards and ListAllPlatformLinks and card-stress's read-back after the
// load all walk pages the same way, and all must stop, not spin, if a server
// hands back the token it was given.
#pragma once

#include <utility>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"
#include "grpcpp/support/status.h"

namespace card::client {

// Calls `fetch(request, &response)` from `request`'s page token on, page by
// page, moving each page's items (`response.*items()`, e.g.
// &ListCardsResponse::mutable_cards) onto the end of `out`. Stops at the first
// failed call (its status is returned; `out` keeps the pages before it) and
// answers INTERNAL if the server repeats a page token.
template <typename Request, typename Response, typename Item, typename Fetch>
grpc::Status ReadAllPages(Request request, Fetch fetch,
                          google::protobuf::RepeatedPtrField<Item>* (Response::*items)(),
                          std::vector<Item>* out) {
  do {
    Response response;
    grpc::Status status = fetch(request, &response);
    if (!status.ok()) return status;
    for (Item& item : *(response.*items)()) out->push_back(std::move(item));
    if (!response.next_page_token().empty() &&
        response.next_page_token() == request.page_token()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "server repeated a page token");
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return grpc::Status::OK;
}

}  // namespace card::client
