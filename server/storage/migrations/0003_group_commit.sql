-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Release marker for group commit (definitions/27_card_create_many.sql): a
-- newer migration, so that a replica of the previous release restarting during
-- the rollout leaves the new definitions alone (see storage/README.md). No
-- schema change is needed; the comment documents the table's writer.
COMMENT ON TABLE create_requests IS
  'CreateCard idempotency keys: (user_id, request_id) -> the card created; written under the user''s advisory lock by card_create_many';
