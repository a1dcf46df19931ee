-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The yardstick of issue 11: a PL/pgSQL function that makes the same writes as
-- card_create with the fewest statements, and keeps its semantics for a card
-- without links: take the user's lock; look up the request id; insert the card
-- (uuid key, unique slug, the one-default partial index, the per-user age
-- index) with is_default := NOT EXISTS (...); insert the idempotency row;
-- return the row. No fingerprint check, no link handling, no slug retry.
-- Created by stress/compare only; never part of the service's schema.
CREATE OR REPLACE FUNCTION compare_minimal_create(p_user_id text, p_title text,
                                                  p_request_id text)
  RETURNS SETOF cards
  LANGUAGE plpgsql AS $$
DECLARE
  v_card cards%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_user_id, 0));
  PERFORM 1 FROM create_requests WHERE user_id = p_user_id AND request_id = p_request_id;
  INSERT INTO cards (id, user_id, title, description, slug, visibility, qr_enabled,
                     is_default, create_time, update_time)
  VALUES (gen_random_uuid(), p_user_id, p_title, '', p_title || '-' || gen_random_uuid(),
          1, false,
          NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id AND is_default),
          clock_timestamp(), clock_timestamp())
  RETURNING * INTO v_card;
  INSERT INTO create_requests (user_id, request_id, card_id, fingerprint)
  VALUES (p_user_id, p_request_id, v_card.id, '');
  RETURN NEXT v_card;
END $$;
