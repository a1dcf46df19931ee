-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Creates a card: the user's first card becomes the default. With a request id,
-- a retry returns the card the first call made (the retry queues on the lock if
-- the first call is still running); the same id with other content is CS409.
-- One item of card_create_many (the server's path), with its refusal raised.
-- Kept for callers of one card at a time: replicas of an earlier release
-- during a rolling update, and stress/compare's pgbench rows.
CREATE OR REPLACE FUNCTION card_create(
    p_user_id text, p_title text, p_description text, p_visibility smallint,
    p_qr_enabled boolean, p_link_ids uuid[], p_request_id text, p_slug_base text,
    p_lock_timeout_ms integer)
  RETURNS SETOF card_rows
  LANGUAGE plpgsql AS $$
DECLARE
  v_row record;
BEGIN
  FOR v_row IN
    SELECT * FROM card_create_many(
      ARRAY[p_user_id], ARRAY[p_title], ARRAY[p_description], ARRAY[p_visibility],
      ARRAY[p_qr_enabled], ARRAY[cardinality(p_link_ids)], p_link_ids,
      ARRAY[p_request_id], ARRAY[p_slug_base], p_lock_timeout_ms, true)
  LOOP
    IF v_row.error_sqlstate IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = v_row.error_sqlstate, MESSAGE = v_row.error_message;
    END IF;
    RETURN NEXT (v_row.id, v_row.user_id, v_row.title, v_row.description, v_row.slug,
                 v_row.visibility, v_row.qr_enabled, v_row.is_default, v_row.create_us,
                 v_row.update_us, v_row.version, v_row.link_id, v_row.link_platform,
                 v_row.link_username, v_row.link_url, v_row.link_position,
                 v_row.link_create_us)::card_rows;
  END LOOP;
END $$;
