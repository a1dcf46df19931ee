-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The approach this service replaces: count, then insert, under SERIALIZABLE;
-- pgbench --max-tries retries serialization failures.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) AS n FROM compare_naive_cards WHERE user_id = 'hot' \gset
INSERT INTO compare_naive_cards (user_id, is_default) VALUES ('hot', :n = 0);
END;
