-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- A timestamp as integer microseconds since the Unix epoch: how every row shape
-- hands times to the server (exact, no text parsing).
CREATE OR REPLACE FUNCTION card_epoch_us(t timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
