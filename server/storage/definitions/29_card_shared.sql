-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The card with slug p_slug, if its owner shares it (visibility PUBLIC or
-- UNLISTED), in the card_rows shape: the owner comes from card_slugs, then
-- the card is read where the owner's rows are. Two single-row lookups, each on
-- one node on Citus, instead of one query over every node's cards.
CREATE OR REPLACE FUNCTION card_shared(p_slug text)
  RETURNS SETOF card_rows
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_owner record;
BEGIN
  SELECT s.user_id, s.card_id INTO v_owner FROM card_slugs s WHERE s.slug = p_slug;
  IF FOUND THEN
    RETURN QUERY SELECT * FROM card_rows r
                 WHERE r.user_id = v_owner.user_id AND r.id = v_owner.card_id
                   AND r.visibility IN (1, 2)
                 ORDER BY r.link_position;
  END IF;
END $$;
