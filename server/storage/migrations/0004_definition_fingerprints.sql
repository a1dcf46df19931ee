-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- What the catalog held for each definition right after the server applied it
-- (md5 of pg_get_functiondef of each overload, or of pg_get_viewdef): at
-- start-up the server compares it with the catalog, so a function or view
-- dropped, renamed or replaced by hand is put back (storage/README.md).
ALTER TABLE card_schema_definitions ADD COLUMN catalog_md5 text;
