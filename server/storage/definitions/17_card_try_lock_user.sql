-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The per-user lock of card_lock_user, taken only if no other transaction
-- holds it: true when taken (until the transaction ends), false at once
-- otherwise. Lets one transaction serve several users without ever waiting
-- while it holds a lock (card_create_many).
CREATE OR REPLACE FUNCTION card_try_lock_user(p_user_id text)
  RETURNS boolean
  LANGUAGE sql AS $$
  SELECT pg_try_advisory_xact_lock(hashtextextended(p_user_id, 0))
$$;
