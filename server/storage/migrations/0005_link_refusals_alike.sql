-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Release marker for definitions/12_card_links_problem.sql answering another
-- user's link id like an unknown one (CS400, one message): a newer migration,
-- so that a replica of the previous release restarting during the rollout
-- leaves the new definitions alone and does not bring back the CS403 answer
-- that told callers which link ids exist (see storage/README.md). No schema
-- change is needed; the comment documents the rule.
COMMENT ON TABLE platform_links IS
  'A user''s links to other platforms; cards show them via card_links. Ids of other users'' links are refused like unknown ids (card_links_problem)';
