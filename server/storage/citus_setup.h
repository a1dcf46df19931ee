// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The schema on a Citus cluster (docs/scale.md). When the database the server
// is pointed at has the citus extension, it is a coordinator, and:
//  * cards, platform_links, card_links and create_requests are distributed by
//    user_id and co-located (a user's rows are on one node); card_slugs is
//    distributed by slug, co-located with them, and each slug is chosen to
//    fall in its owner's shard, so that claiming it stays on that node;
//  * every function that changes a user's rows is distributed by its p_user_id
//    argument, co-located with cards: Citus runs each call on the node that
//    holds the user's rows, and the user's advisory lock is taken there. A
//    call of such a function that ran on the coordinator instead would take
//    the lock on a different node and no longer exclude a delegated call for
//    the same user; so the server refuses to serve unless every one is
//    distributed exactly so (CheckDistribution), and calls them in the one
//    statement shape Citus delegates (postgres_repository.cc).
// On plain PostgreSQL all of this is skipped: nothing is distributed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace card::storage {

// The functions distributed by their user (first argument, p_user_id).
const std::vector<std::string>& UserMutationFunctions();

// What the server learns of the database's distribution.
struct Distribution {
  bool citus = false;  // The database is a Citus coordinator.
  int workers = 0;     // Worker nodes Citus lists as active (pg_dist_node).
};

// Whether the database is Citus and, if so, whether every table and user
// function is distributed as DistributeOnCitus leaves them:
// FAILED_PRECONDITION naming the first that is not (serving then would split
// users' locks over two nodes). Database trouble: UNAVAILABLE and the like.
absl::StatusOr<Distribution> CheckDistribution(const std::string& connection_string);

}  // namespace card::storage
