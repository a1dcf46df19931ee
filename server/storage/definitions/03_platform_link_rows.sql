-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Row shape of a platform link as the storage layer reads it.
CREATE OR REPLACE VIEW platform_link_rows AS
SELECT l.id, l.user_id, l.platform, l.username, l.url, l.display_order,
       card_epoch_us(l.create_time) AS create_us
FROM platform_links l;
