-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Creates one of the user's platform links, under the user's lock (the same
-- lock as card changes, because cards reference links).
CREATE OR REPLACE FUNCTION card_create_link(
    p_user_id text, p_platform text, p_username text, p_url text, p_display_order integer,
    p_lock_timeout_ms integer)
  RETURNS SETOF platform_link_rows
  LANGUAGE plpgsql AS $$
DECLARE
  v_link_id uuid := gen_random_uuid();
  v_now timestamptz;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  v_now := clock_timestamp();
  INSERT INTO platform_links (id, user_id, platform, username, url, display_order, create_time)
  VALUES (v_link_id, p_user_id, p_platform, p_username, p_url, p_display_order, v_now);
  RETURN QUERY SELECT * FROM platform_link_rows r
               WHERE r.user_id = p_user_id AND r.id = v_link_id;
END $$;
