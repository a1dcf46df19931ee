-- 0002: the rest of the card lifecycle and platform links. Same rules as 0001:
-- every function that changes a user's cards or links takes card_lock_user
-- first and is one statement (one round trip, one transaction).
-- p_expected_version 0 means "any version" (no etag sent).

-- Row shape of a platform link as the storage layer reads it.
CREATE VIEW platform_link_rows AS
SELECT l.id, l.user_id, l.platform, l.username, l.url, l.display_order,
       card_epoch_us(l.create_time) AS create_us
FROM platform_links l;

CREATE FUNCTION card_update(
    p_user_id text, p_card_id uuid, p_expected_version bigint,
    p_set_title boolean, p_title text,
    p_set_description boolean, p_description text,
    p_set_visibility boolean, p_visibility smallint,
    p_set_qr_enabled boolean, p_qr_enabled boolean,
    p_set_links boolean, p_link_ids uuid[],
    p_lock_timeout_ms integer)
  RETURNS SETOF card_rows
  LANGUAGE plpgsql AS $$
DECLARE
  v_version bigint;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  SELECT version INTO v_version FROM cards WHERE id = p_card_id AND user_id = p_user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'CS404', MESSAGE = 'card.id: no such card for this user';
  END IF;
  IF p_expected_version <> 0 AND p_expected_version <> v_version THEN
    RAISE EXCEPTION USING ERRCODE = 'CS410',
      MESSAGE = 'card.etag: the card has changed since this etag was read';
  END IF;
  IF p_set_links THEN
    PERFORM card_check_links(p_user_id, p_link_ids);
    DELETE FROM card_links WHERE card_id = p_card_id;
    INSERT INTO card_links (card_id, link_id, position)
    SELECT p_card_id, t.link_id, t.ord - 1
    FROM unnest(p_link_ids) WITH ORDINALITY AS t(link_id, ord);
  END IF;
  UPDATE cards SET
    title       = CASE WHEN p_set_title THEN p_title ELSE title END,
    description = CASE WHEN p_set_description THEN p_description ELSE description END,
    visibility  = CASE WHEN p_set_visibility THEN p_visibility ELSE visibility END,
    qr_enabled  = CASE WHEN p_set_qr_enabled THEN p_qr_enabled ELSE qr_enabled END,
    version     = version + 1,
    update_time = clock_timestamp()
  WHERE id = p_card_id;
  RETURN QUERY SELECT * FROM card_rows WHERE id = p_card_id ORDER BY link_position;
END $$;

-- Deletes a card; if it was the default, the user's oldest remaining card
-- becomes the default in the same transaction. The last card stays.
CREATE FUNCTION card_delete(
    p_user_id text, p_card_id uuid, p_expected_version bigint, p_lock_timeout_ms integer)
  RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_card cards%ROWTYPE;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  SELECT * INTO v_card FROM cards WHERE id = p_card_id AND user_id = p_user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'CS404', MESSAGE = 'card_id: no such card for this user';
  END IF;
  IF p_expected_version <> 0 AND p_expected_version <> v_card.version THEN
    RAISE EXCEPTION USING ERRCODE = 'CS410',
      MESSAGE = 'etag: the card has changed since this etag was read';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id AND id <> p_card_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'CS409',
      MESSAGE = 'card_id: a user''s last card cannot be deleted';
  END IF;
  DELETE FROM cards WHERE id = p_card_id;
  IF v_card.is_default THEN
    UPDATE cards SET is_default = true, version = version + 1, update_time = clock_timestamp()
    WHERE id = (SELECT id FROM cards WHERE user_id = p_user_id
                ORDER BY create_time, id LIMIT 1);
  END IF;
END $$;

-- Makes a card the default. The partial unique index is not deferrable, so the
-- old default is cleared before the new one is set (one UPDATE doing both
-- fails with 23505 in some row orders).
CREATE FUNCTION card_set_default(p_user_id text, p_card_id uuid, p_lock_timeout_ms integer)
  RETURNS SETOF card_rows
  LANGUAGE plpgsql AS $$
DECLARE
  v_is_default boolean;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  SELECT is_default INTO v_is_default FROM cards WHERE id = p_card_id AND user_id = p_user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'CS404', MESSAGE = 'card_id: no such card for this user';
  END IF;
  IF NOT v_is_default THEN
    UPDATE cards SET is_default = false, version = version + 1, update_time = clock_timestamp()
    WHERE user_id = p_user_id AND is_default;
    UPDATE cards SET is_default = true, version = version + 1, update_time = clock_timestamp()
    WHERE id = p_card_id;
  END IF;
  RETURN QUERY SELECT * FROM card_rows WHERE id = p_card_id ORDER BY link_position;
END $$;

CREATE FUNCTION card_create_link(
    p_user_id text, p_platform text, p_username text, p_url text, p_display_order integer,
    p_lock_timeout_ms integer)
  RETURNS SETOF platform_link_rows
  LANGUAGE plpgsql AS $$
DECLARE
  v_link_id uuid := gen_random_uuid();
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  INSERT INTO platform_links (id, user_id, platform, username, url, display_order, create_time)
  VALUES (v_link_id, p_user_id, p_platform, p_username, p_url, p_display_order,
          clock_timestamp());
  RETURN QUERY SELECT * FROM platform_link_rows WHERE id = v_link_id;
END $$;

-- Deletes a link; the cards that showed it lose it (ON DELETE CASCADE) and get
-- a new version, since their content changed.
CREATE FUNCTION card_delete_link(p_user_id text, p_link_id uuid, p_lock_timeout_ms integer)
  RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  PERFORM 1 FROM platform_links WHERE id = p_link_id AND user_id = p_user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'CS404',
      MESSAGE = 'link_id: no such platform link for this user';
  END IF;
  UPDATE cards SET version = version + 1, update_time = clock_timestamp()
  WHERE id IN (SELECT card_id FROM card_links WHERE link_id = p_link_id);
  DELETE FROM platform_links WHERE id = p_link_id;
END $$;

-- Expires idempotency keys older than the retention, a batch at a time. Takes
-- no user lock and touches only expired rows, so it never blocks a write.
CREATE FUNCTION card_expire_requests(p_older_than_seconds integer, p_batch integer)
  RETURNS integer
  LANGUAGE sql AS $$
  WITH expired AS (
    DELETE FROM create_requests
    WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM create_requests
      WHERE create_time < now() - make_interval(secs => p_older_than_seconds)
      LIMIT p_batch FOR UPDATE SKIP LOCKED))
    RETURNING 1)
  SELECT count(*)::integer FROM expired
$$;
