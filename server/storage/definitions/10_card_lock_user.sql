-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The per-user lock, taken first by every transaction that changes a user's
-- cards or links. The key is a 64-bit hash of the user id: two users whose
-- hashes collide only queue behind each other; correctness never depends on the
-- key being unique. lock_timeout bounds the wait (the request's deadline, capped
-- by the server); it is transaction-local, so the pooled connection is unchanged.
-- Must run under READ COMMITTED: the statements after it then see what the
-- previous holder committed.
-- When it had to wait, how long the lock took is left in the transaction-local
-- setting card.lock_wait_us; the calling statement returns it with its result
-- (current_setting), so the server's lock-wait histogram costs no round trip.
-- Taken at once, nothing is set (the fast path stays one call): the server
-- reads an unset value as no wait.
CREATE OR REPLACE FUNCTION card_lock_user(p_user_id text, p_lock_timeout_ms integer)
  RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_key bigint := hashtextextended(p_user_id, 0);
  v_asked timestamptz;
BEGIN
  -- Uncontended (the usual case): taken at once, no setting to change.
  IF pg_try_advisory_xact_lock(v_key) THEN
    RETURN;
  END IF;
  IF p_lock_timeout_ms > 0 THEN
    PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
  END IF;
  v_asked := clock_timestamp();
  PERFORM pg_advisory_xact_lock(v_key);
  PERFORM set_config('card.lock_wait_us',
                     floor(extract(epoch FROM clock_timestamp() - v_asked) * 1e6)::bigint::text,
                     true);
END $$;
