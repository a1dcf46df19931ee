-- 0001: cards, platform links, idempotent create requests, and the functions
-- that mutate them. Every mutating function takes the user's advisory lock
-- (card_lock_user) before it reads anything, and runs as one statement, so one
-- round trip is one transaction and the lock is never held across the network.
--
-- Errors raised here use SQLSTATEs of class 'CS' and a message of the form
-- '<request field>: <what is wrong>'; the storage layer maps them to statuses:
--   CS400 invalid argument, CS403 permission denied, CS404 not found,
--   CS409 failed precondition (conflicting state), CS410 aborted (stale etag).

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
-- owner's lock by card_check_links).
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

CREATE FUNCTION card_epoch_us(t timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

-- One row per link of each card, in link order; a card without links is one row
-- with NULL link columns. Every read of cards goes through this shape.
CREATE VIEW card_rows AS
SELECT c.id, c.user_id, c.title, c.description, c.slug, c.visibility,
       c.qr_enabled, c.is_default,
       card_epoch_us(c.create_time) AS create_us,
       card_epoch_us(c.update_time) AS update_us,
       c.version,
       l.id AS link_id, l.platform AS link_platform, l.username AS link_username,
       l.url AS link_url, cl.position AS link_position,
       card_epoch_us(l.create_time) AS link_create_us
FROM cards c
LEFT JOIN card_links cl ON cl.card_id = c.id
LEFT JOIN platform_links l ON l.id = cl.link_id;

-- The per-user lock, taken first by every transaction that changes a user's
-- cards or links. The key is a 64-bit hash of the user id: two users whose
-- hashes collide only queue behind each other; correctness never depends on the
-- key being unique. lock_timeout bounds the wait (the request's deadline, capped
-- by the server); it is transaction-local, so the pooled connection is unchanged.
CREATE FUNCTION card_lock_user(p_user_id text, p_lock_timeout_ms integer) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  IF p_lock_timeout_ms > 0 THEN
    PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(p_user_id, 0));
END $$;

-- Raises unless every id is one of the user's own platform links.
CREATE FUNCTION card_check_links(p_user_id text, p_link_ids uuid[]) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_position bigint;
  v_owner text;
BEGIN
  SELECT t.ord, l.user_id INTO v_position, v_owner
  FROM unnest(p_link_ids) WITH ORDINALITY AS t(link_id, ord)
  LEFT JOIN platform_links l ON l.id = t.link_id
  WHERE l.user_id IS DISTINCT FROM p_user_id
  ORDER BY t.ord
  LIMIT 1;
  IF NOT FOUND THEN
    RETURN;
  ELSIF v_owner IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'CS400',
      MESSAGE = format('link_ids[%s]: no such platform link', v_position - 1);
  ELSE
    RAISE EXCEPTION USING ERRCODE = 'CS403',
      MESSAGE = format('link_ids[%s]: platform link belongs to another user', v_position - 1);
  END IF;
END $$;

-- Creates a card: the user's first card becomes the default. With a request id,
-- a retry returns the card the first call made (the retry queues on the lock if
-- the first call is still running).
CREATE FUNCTION card_create(
    p_user_id text, p_title text, p_description text, p_visibility smallint,
    p_qr_enabled boolean, p_link_ids uuid[], p_request_id text, p_slug_base text,
    p_lock_timeout_ms integer)
  RETURNS SETOF card_rows
  LANGUAGE plpgsql AS $$
DECLARE
  v_fingerprint text := md5(concat_ws(E'\x1f', p_title, p_description, p_visibility,
                                      p_qr_enabled, array_to_string(p_link_ids, ',')));
  v_request create_requests%ROWTYPE;
  v_card_id uuid := gen_random_uuid();
  v_now timestamptz;
  v_is_default boolean;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  -- Taken under the lock, so a user's cards are created in commit order and a
  -- client paging by (create_time, id) never misses one committed behind it.
  v_now := clock_timestamp();

  IF p_request_id <> '' THEN
    SELECT * INTO v_request FROM create_requests
    WHERE user_id = p_user_id AND request_id = p_request_id;
    IF FOUND THEN
      IF v_request.fingerprint <> v_fingerprint THEN
        RAISE EXCEPTION USING ERRCODE = 'CS409',
          MESSAGE = 'request_id: already used for a create with different content';
      END IF;
      RETURN QUERY SELECT * FROM card_rows WHERE id = v_request.card_id ORDER BY link_position;
      IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'CS409',
          MESSAGE = 'request_id: already used; the card it created has been deleted';
      END IF;
      RETURN;
    END IF;
  END IF;

  PERFORM card_check_links(p_user_id, p_link_ids);
  -- Decided under the lock, on a snapshot taken after it was granted (READ
  -- COMMITTED gives each statement of this function a fresh snapshot).
  v_is_default := NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id AND is_default);

  -- The slug is unique across users, who do not share a lock: ON CONFLICT makes
  -- a collision a retry with a new suffix, never a check-then-insert race.
  LOOP
    INSERT INTO cards (id, user_id, title, description, slug, visibility, qr_enabled,
                       is_default, create_time, update_time)
    VALUES (v_card_id, p_user_id, p_title, p_description,
            p_slug_base || '-' || substr(md5(random()::text), 1, 8),
            p_visibility, p_qr_enabled, v_is_default, v_now, v_now)
    ON CONFLICT (slug) DO NOTHING;
    EXIT WHEN FOUND;
  END LOOP;

  INSERT INTO card_links (card_id, link_id, position)
  SELECT v_card_id, t.link_id, t.ord - 1
  FROM unnest(p_link_ids) WITH ORDINALITY AS t(link_id, ord);

  IF p_request_id <> '' THEN
    INSERT INTO create_requests (user_id, request_id, card_id, fingerprint)
    VALUES (p_user_id, p_request_id, v_card_id, v_fingerprint);
  END IF;

  RETURN QUERY SELECT * FROM card_rows WHERE id = v_card_id ORDER BY link_position;
END $$;
