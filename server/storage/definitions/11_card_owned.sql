-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The user's card `p_card_id` as the caller means it: CS404 naming the request
-- field `p_id_field` when no such card belongs to the user, CS410 naming
-- `p_etag_field` when the caller sent an etag (p_expected_version <> 0) and the
-- card has changed since. Called under the user's lock.
CREATE OR REPLACE FUNCTION card_owned(
    p_user_id text, p_card_id uuid, p_id_field text,
    p_expected_version bigint DEFAULT 0, p_etag_field text DEFAULT 'etag')
  RETURNS cards
  LANGUAGE plpgsql AS $$
DECLARE
  v_card cards%ROWTYPE;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card_id AND user_id = p_user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'CS404',
      MESSAGE = p_id_field || ': no such card for this user';
  END IF;
  IF p_expected_version <> 0 AND p_expected_version <> v_card.version THEN
    RAISE EXCEPTION USING ERRCODE = 'CS410',
      MESSAGE = p_etag_field || ': the card has changed since this etag was read';
  END IF;
  RETURN v_card;
END $$;
