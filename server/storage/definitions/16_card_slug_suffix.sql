-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The random part of a card's slug: 20 hex digits, 80 bits from
-- gen_random_uuid() (a strong random source; the uuid's fixed version and
-- variant digits are skipped), so an UNLISTED card's slug can be neither
-- guessed nor enumerated.
CREATE OR REPLACE FUNCTION card_slug_suffix() RETURNS text
  LANGUAGE sql VOLATILE AS $$
  SELECT left(h, 12) || substr(h, 14, 3) || substr(h, 18, 5)
  FROM replace(gen_random_uuid()::text, '-', '') AS h
$$;
