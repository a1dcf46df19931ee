-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The minimal same-writes function (minimal_create_function.sql), one hot user.
SELECT * FROM compare_minimal_create('compare-min-hot', 'stress-card',
  'pgbench-' || :client_id || '-' || random()::text);
