-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- One card in the card_rows shape: what every function that returns a card
-- returns. PL/pgSQL, not SQL: Citus refuses an SQL-language function with
-- parameters that reads distributed tables.
CREATE OR REPLACE FUNCTION card_row_set(p_user_id text, p_card_id uuid)
  RETURNS SETOF card_rows
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY SELECT * FROM card_rows r
               WHERE r.user_id = p_user_id AND r.id = p_card_id ORDER BY r.link_position;
END $$;
