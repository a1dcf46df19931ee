-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Expires idempotency keys older than the retention, a batch at a time. Takes
-- no user lock and touches only expired rows, so it never blocks a write.
CREATE OR REPLACE FUNCTION card_expire_requests(p_older_than_seconds integer, p_batch integer)
  RETURNS integer
  LANGUAGE sql AS $$
  WITH expired AS (
    DELETE FROM create_requests
    WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM create_requests
      WHERE create_time < now() - make_interval(secs => p_older_than_seconds)
      LIMIT p_batch FOR UPDATE SKIP LOCKED))
    RETURNING 1)
  SELECT count(*)::integer FROM expired
$$;
