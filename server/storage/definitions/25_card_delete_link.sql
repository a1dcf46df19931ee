-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Deletes a link; the cards that showed it lose it (ON DELETE CASCADE) and get
-- a new version, since their content changed.
CREATE OR REPLACE FUNCTION card_delete_link(
    p_user_id text, p_link_id uuid, p_lock_timeout_ms integer)
  RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  v_now := clock_timestamp();
  PERFORM 1 FROM platform_links WHERE user_id = p_user_id AND id = p_link_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'CS404',
      MESSAGE = 'link_id: no such platform link for this user';
  END IF;
  UPDATE cards SET version = version + 1, update_time = v_now
  WHERE user_id = p_user_id
    AND id IN (SELECT card_id FROM card_links WHERE user_id = p_user_id AND link_id = p_link_id);
  DELETE FROM platform_links WHERE user_id = p_user_id AND id = p_link_id;
END $$;
