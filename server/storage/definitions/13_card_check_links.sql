-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Raises unless every id is one of the user's own platform links: CS400 naming
-- the first bad position, the same for an unknown link and another user's.
CREATE OR REPLACE FUNCTION card_check_links(p_user_id text, p_link_ids uuid[])
  RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_problem record;
BEGIN
  v_problem := card_links_problem(p_user_id, p_link_ids);
  IF v_problem.sqlstate IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = v_problem.sqlstate, MESSAGE = v_problem.message;
  END IF;
END $$;
