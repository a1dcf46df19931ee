-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- One row per link of each card, in link order; a card without links is one row
-- with NULL link columns. Every read of cards goes through this shape, and
-- storage/card_rows.cc reads it by column name. Columns may be added at the
-- end; changing or removing one needs a numbered migration that drops the view
-- and the functions returning it. The joins go through user_id, so that on
-- Citus a read of one user's cards stays on that user's node.
CREATE OR REPLACE VIEW card_rows AS
SELECT c.id, c.user_id, c.title, c.description, c.slug, c.visibility,
       c.qr_enabled, c.is_default,
       card_epoch_us(c.create_time) AS create_us,
       card_epoch_us(c.update_time) AS update_us,
       c.version,
       l.id AS link_id, l.platform AS link_platform, l.username AS link_username,
       l.url AS link_url, cl.position AS link_position,
       card_epoch_us(l.create_time) AS link_create_us
FROM cards c
LEFT JOIN card_links cl ON cl.user_id = c.user_id AND cl.card_id = c.id
LEFT JOIN platform_links l ON l.user_id = cl.user_id AND l.id = cl.link_id;
