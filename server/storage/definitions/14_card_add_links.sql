-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Appends `p_link_ids`, in that order, to a card that has no links (a new card,
-- or one whose links the caller just deleted), after checking that each is the
-- user's own. Called under the user's lock.
CREATE OR REPLACE FUNCTION card_add_links(p_user_id text, p_card_id uuid, p_link_ids uuid[])
  RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM card_check_links(p_user_id, p_link_ids);
  INSERT INTO card_links (user_id, card_id, link_id, position)
  SELECT p_user_id, p_card_id, t.link_id, t.ord - 1
  FROM unnest(p_link_ids) WITH ORDINALITY AS t(link_id, ord);
END $$;
