-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- 0007: every key of a user's rows starts with the user (issue 21), so that
-- the tables can be distributed by user_id over a Citus cluster and each
-- user's rows, and the lock over them, live on one node. On plain PostgreSQL
-- the same schema, the same rules:
--  * cards and platform_links are keyed (user_id, id); card_links carries the
--    user too, and its foreign keys go through it;
--  * slugs, unique across all users, get a table of their own keyed by slug
--    (distributed by slug on Citus): the database still refuses a second card
--    with a slug, whoever writes. card_create_many claims the slug there in
--    the transaction that creates the card; card_delete frees it.
--  * cards keeps (slug, user_id) unique and indexed: a per-shard backstop, and
--    the index a replica of the previous release reads a shared card by while
--    a rollout runs.

ALTER TABLE card_links ADD COLUMN user_id text;
UPDATE card_links cl SET user_id = c.user_id FROM cards c WHERE c.id = cl.card_id;
ALTER TABLE card_links ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE card_links
  DROP CONSTRAINT card_links_card_id_fkey,
  DROP CONSTRAINT card_links_link_id_fkey,
  DROP CONSTRAINT card_links_pkey,
  DROP CONSTRAINT card_links_card_id_link_id_key;
DROP INDEX card_links_by_link;

ALTER TABLE cards DROP CONSTRAINT cards_pkey, ADD PRIMARY KEY (user_id, id);
ALTER TABLE platform_links DROP CONSTRAINT platform_links_pkey, ADD PRIMARY KEY (user_id, id);
ALTER TABLE card_links
  ADD PRIMARY KEY (user_id, card_id, position),
  ADD UNIQUE (user_id, card_id, link_id),
  ADD FOREIGN KEY (user_id, card_id) REFERENCES cards (user_id, id) ON DELETE CASCADE,
  ADD FOREIGN KEY (user_id, link_id) REFERENCES platform_links (user_id, id) ON DELETE CASCADE;
CREATE INDEX card_links_by_link ON card_links (user_id, link_id);

CREATE TABLE card_slugs (
  slug    text PRIMARY KEY,
  user_id text NOT NULL,
  card_id uuid NOT NULL
);
COMMENT ON TABLE card_slugs IS
  'Every card''s slug, unique across users: claimed by card_create_many in the transaction that creates the card, freed by card_delete; GetSharedCard finds the owner here';
INSERT INTO card_slugs (slug, user_id, card_id) SELECT slug, user_id, id FROM cards;
ALTER TABLE cards
  DROP CONSTRAINT cards_slug_key,
  ADD CONSTRAINT cards_slug_user_key UNIQUE (slug, user_id);

-- For one release only: replicas of the previous release read a card by id
-- alone (card_get_default, card_list_*) while a rolling update runs; without
-- this index each such read would scan the table. A later migration drops it.
CREATE INDEX cards_by_id ON cards (id);

-- card_row_set takes the user now (definitions/15_card_row_set.sql): the
-- one-argument form read by id alone and is not called any more.
DROP FUNCTION IF EXISTS card_row_set(uuid);
