-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Count-then-insert without a lock under READ COMMITTED: the race itself.
\set u random(1, :users)
BEGIN;
SELECT count(*) AS n FROM compare_naive_cards WHERE user_id = 'first-' || :u \gset
INSERT INTO compare_naive_cards (user_id, is_default) VALUES ('first-' || :u, :n = 0);
END;
