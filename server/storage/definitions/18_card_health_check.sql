-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- What the health probe asks, one row: whether the database takes writes, and
-- which of the service's functions and views (p_objects) are missing.
-- PL/pgSQL on purpose, like every mutation: a database that can no longer run
-- PL/pgSQL (plpgsql.so unloadable after a package upgrade) or that lost or
-- broke this function fails the probe, and health turns NOT_SERVING, instead
-- of the probe passing while every create fails. Read-only and cheap: two
-- settings and one catalog lookup per object.
CREATE OR REPLACE FUNCTION card_health_check(p_objects text[])
  RETURNS TABLE (read_only boolean, in_recovery boolean, missing text)
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY SELECT
    current_setting('transaction_read_only') = 'on', pg_is_in_recovery(),
    array_to_string(ARRAY(
      SELECT o FROM unnest(p_objects) AS o
      WHERE NOT EXISTS (SELECT 1 FROM pg_proc p
                        WHERE p.proname = o AND pg_function_is_visible(p.oid))
        AND to_regclass(o) IS NULL
      ORDER BY o), ', ');
END
$$;
