-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Deletes a card and frees its slug; if it was the default, the user's oldest
-- remaining card becomes the default in the same transaction. The last card
-- stays (CS409). p_expected_version 0: no etag sent.
CREATE OR REPLACE FUNCTION card_delete(
    p_user_id text, p_card_id uuid, p_expected_version bigint, p_lock_timeout_ms integer)
  RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_card cards%ROWTYPE;
  v_now timestamptz;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  v_now := clock_timestamp();
  v_card := card_owned(p_user_id, p_card_id, 'card_id', p_expected_version, 'etag');
  IF NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id AND id <> p_card_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'CS409',
      MESSAGE = 'card_id: a user''s last card cannot be deleted';
  END IF;
  DELETE FROM cards WHERE user_id = p_user_id AND id = p_card_id;
  DELETE FROM card_slugs WHERE slug = v_card.slug AND card_id = p_card_id;
  IF v_card.is_default THEN
    UPDATE cards SET is_default = true, version = version + 1, update_time = v_now
    WHERE user_id = p_user_id
      AND id = (SELECT id FROM cards WHERE user_id = p_user_id
                ORDER BY create_time, id LIMIT 1);
  END IF;
END $$;
