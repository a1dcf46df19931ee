-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Expires idempotency keys older than the retention, about a batch at a time
-- (the oldest first; keys created in the same microsecond as the batch's last
-- one go with it). Takes no user lock and touches only expired rows, which no
-- create writes any more, so it never blocks a write. PL/pgSQL with one
-- DELETE by age: Citus plans it on every node (it has no plan for the ctid
-- form this replaced).
CREATE OR REPLACE FUNCTION card_expire_requests(p_older_than_seconds integer, p_batch integer)
  RETURNS integer
  LANGUAGE plpgsql AS $$
DECLARE
  v_cutoff timestamptz := now() - make_interval(secs => p_older_than_seconds);
  v_last timestamptz;
  v_deleted integer;
BEGIN
  SELECT r.create_time INTO v_last FROM create_requests r
  WHERE r.create_time < v_cutoff
  ORDER BY r.create_time OFFSET greatest(p_batch - 1, 0) LIMIT 1;
  DELETE FROM create_requests
  WHERE create_time < v_cutoff AND (v_last IS NULL OR create_time <= v_last);
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  RETURN v_deleted;
END $$;
