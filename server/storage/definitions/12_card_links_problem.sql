-- What is wrong with `p_link_ids` for this user, or NULL when every id is one
-- of the user's own platform links: the SQLSTATE (CS400 for an unknown link,
-- CS403 for another user's) and the message naming the first bad position.
-- Returned, not raised, so a batch of creates can refuse one item and go on.
CREATE OR REPLACE FUNCTION card_links_problem(
    p_user_id text, p_link_ids uuid[], OUT sqlstate text, OUT message text)
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_position bigint;
  v_owner text;
BEGIN
  SELECT t.ord, l.user_id INTO v_position, v_owner
  FROM unnest(p_link_ids) WITH ORDINALITY AS t(link_id, ord)
  LEFT JOIN platform_links l ON l.id = t.link_id
  WHERE l.user_id IS DISTINCT FROM p_user_id
  ORDER BY t.ord
  LIMIT 1;
  IF NOT FOUND THEN
    RETURN;
  ELSIF v_owner IS NULL THEN
    sqlstate := 'CS400';
    message := format('link_ids[%s]: no such platform link', v_position - 1);
  ELSE
    sqlstate := 'CS403';
    message := format('link_ids[%s]: platform link belongs to another user', v_position - 1);
  END IF;
END $$;
