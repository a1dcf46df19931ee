-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Changes the fields whose p_set_* flag is true (the update mask), bumps the
-- version, and returns the card. p_expected_version 0: no etag sent.
-- Every statement names the user (one node on Citus); the time is read into a
-- variable after the lock (Citus refuses a volatile function in UPDATE ... SET).
CREATE OR REPLACE FUNCTION card_update(
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
  v_now timestamptz;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  v_now := clock_timestamp();
  PERFORM card_owned(p_user_id, p_card_id, 'card.id', p_expected_version, 'card.etag');
  IF p_set_links THEN
    DELETE FROM card_links WHERE user_id = p_user_id AND card_id = p_card_id;
    PERFORM card_add_links(p_user_id, p_card_id, p_link_ids);
  END IF;
  UPDATE cards SET
    title       = CASE WHEN p_set_title THEN p_title ELSE title END,
    description = CASE WHEN p_set_description THEN p_description ELSE description END,
    visibility  = CASE WHEN p_set_visibility THEN p_visibility ELSE visibility END,
    qr_enabled  = CASE WHEN p_set_qr_enabled THEN p_qr_enabled ELSE qr_enabled END,
    version     = version + 1,
    update_time = v_now
  WHERE user_id = p_user_id AND id = p_card_id;
  RETURN QUERY SELECT * FROM card_row_set(p_user_id, p_card_id);
END $$;
