-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
\set u random(1, :users)
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) AS n FROM compare_naive_cards WHERE user_id = 'u' || :u \gset
INSERT INTO compare_naive_cards (user_id, is_default) VALUES ('u' || :u, :n = 0);
END;
