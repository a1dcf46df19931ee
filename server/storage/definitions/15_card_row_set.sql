-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- One card in the card_rows shape: what every function that returns a card
-- returns.
CREATE OR REPLACE FUNCTION card_row_set(p_card_id uuid)
  RETURNS SETOF card_rows
  LANGUAGE sql STABLE AS $$
  SELECT * FROM card_rows WHERE id = p_card_id ORDER BY link_position
$$;
