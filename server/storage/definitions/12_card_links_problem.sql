-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- What is wrong with `p_link_ids` for this user, or NULL when every id is one
-- of the user's own platform links: CS400 and the message naming the first bad
-- position. An id of another user's link gets exactly the answer an id no link
-- has, so that no caller can learn which link ids exist (issue 22).
-- Returned, not raised, so a batch of creates can refuse one item and go on.
CREATE OR REPLACE FUNCTION card_links_problem(
    p_user_id text, p_link_ids uuid[], OUT sqlstate text, OUT message text)
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_position bigint;
BEGIN
  SELECT t.ord INTO v_position
  FROM unnest(p_link_ids) WITH ORDINALITY AS t(link_id, ord)
  WHERE NOT EXISTS (SELECT 1 FROM platform_links l
                    WHERE l.id = t.link_id AND l.user_id = p_user_id)
  ORDER BY t.ord
  LIMIT 1;
  IF FOUND THEN
    sqlstate := 'CS400';
    message := format('link_ids[%s]: no such platform link for this user', v_position - 1);
  END IF;
END $$;
