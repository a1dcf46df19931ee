-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- 0001: cards, platform links and idempotent create requests: the tables and
-- their indexes. The functions and views over them live one per file in
-- ../definitions/ and are re-applied at start-up (until the definitions layout
-- this migration defined them too; databases created then converge, because
-- the definitions replace those objects under the same names and signatures).

CREATE TABLE cards (
  id          uuid        PRIMARY KEY,
  user_id     text        NOT NULL,
  title       text        NOT NULL,
  description text        NOT NULL,
  slug        text        NOT NULL UNIQUE,
  visibility  smallint    NOT NULL CHECK (visibility BETWEEN 1 AND 3),
  qr_enabled  boolean     NOT NULL,
  is_default  boolean     NOT NULL,
  create_time timestamptz NOT NULL,
  update_time timestamptz NOT NULL,
  version     bigint      NOT NULL DEFAULT 1
);
-- The backstop: two defaults for one user are impossible, whoever writes.
CREATE UNIQUE INDEX cards_one_default_per_user ON cards (user_id) WHERE is_default;
CREATE INDEX cards_by_user_age ON cards (user_id, create_time, id);

CREATE TABLE platform_links (
  id            uuid        PRIMARY KEY,
  user_id       text        NOT NULL,
  platform      text        NOT NULL,
  username      text        NOT NULL,
  url           text        NOT NULL,
  display_order integer     NOT NULL DEFAULT 0,
  create_time   timestamptz NOT NULL
);
CREATE INDEX platform_links_by_user_age ON platform_links (user_id, create_time, id);

-- A card's ordered links. A link belongs to the card's owner (checked under the
-- owner's lock by card_check_links in definitions/).
CREATE TABLE card_links (
  card_id  uuid    NOT NULL REFERENCES cards (id) ON DELETE CASCADE,
  link_id  uuid    NOT NULL REFERENCES platform_links (id) ON DELETE CASCADE,
  position integer NOT NULL,
  PRIMARY KEY (card_id, position),
  UNIQUE (card_id, link_id)
);
CREATE INDEX card_links_by_link ON card_links (link_id);

-- Idempotency keys of CreateCard. No foreign key: the key outlives a deleted
-- card, so a late retry cannot create a second one.
CREATE TABLE create_requests (
  user_id     text        NOT NULL,
  request_id  text        NOT NULL,
  card_id     uuid        NOT NULL,
  fingerprint text        NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, request_id)
);
CREATE INDEX create_requests_by_age ON create_requests (create_time);
