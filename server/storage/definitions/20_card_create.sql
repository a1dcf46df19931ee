-- Creates a card: the user's first card becomes the default. With a request id,
-- a retry returns the card the first call made (the retry queues on the lock if
-- the first call is still running); the same id with other content is CS409.
CREATE OR REPLACE FUNCTION card_create(
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
      RETURN QUERY SELECT * FROM card_row_set(v_request.card_id);
      IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'CS409',
          MESSAGE = 'request_id: already used; the card it created has been deleted';
      END IF;
      RETURN;
    END IF;
  END IF;

  -- Decided under the lock, on a snapshot taken after it was granted (READ
  -- COMMITTED gives each statement of this function a fresh snapshot).
  v_is_default := NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id AND is_default);

  -- The slug is unique across users, who do not share a lock: ON CONFLICT makes
  -- a collision a retry with a new suffix, never a check-then-insert race.
  LOOP
    INSERT INTO cards (id, user_id, title, description, slug, visibility, qr_enabled,
                       is_default, create_time, update_time)
    VALUES (v_card_id, p_user_id, p_title, p_description,
            p_slug_base || '-' || card_slug_suffix(),
            p_visibility, p_qr_enabled, v_is_default, v_now, v_now)
    ON CONFLICT (slug) DO NOTHING;
    EXIT WHEN FOUND;
  END LOOP;

  PERFORM card_add_links(p_user_id, v_card_id, p_link_ids);

  IF p_request_id <> '' THEN
    INSERT INTO create_requests (user_id, request_id, card_id, fingerprint)
    VALUES (p_user_id, p_request_id, v_card_id, v_fingerprint);
  END IF;

  RETURN QUERY SELECT * FROM card_row_set(v_card_id);
END $$;
