-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Makes a card the default. The partial unique index is not deferrable, so the
-- old default is cleared before the new one is set (one UPDATE doing both
-- fails with 23505 in some row orders).
CREATE OR REPLACE FUNCTION card_set_default(
    p_user_id text, p_card_id uuid, p_lock_timeout_ms integer)
  RETURNS SETOF card_rows
  LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz;
BEGIN
  PERFORM card_lock_user(p_user_id, p_lock_timeout_ms);
  v_now := clock_timestamp();
  IF NOT (card_owned(p_user_id, p_card_id, 'card_id')).is_default THEN
    UPDATE cards SET is_default = false, version = version + 1, update_time = v_now
    WHERE user_id = p_user_id AND is_default;
    UPDATE cards SET is_default = true, version = version + 1, update_time = v_now
    WHERE user_id = p_user_id AND id = p_card_id;
  END IF;
  RETURN QUERY SELECT * FROM card_row_set(p_user_id, p_card_id);
END $$;
