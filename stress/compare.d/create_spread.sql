-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- The create call card-server makes (card_create_many with one item), spread
-- over :users users.
\set u random(1, :users)
SELECT * FROM card_create_many(
  p_user_ids => ARRAY['compare-spread-' || :u], p_titles => '{"Stress card"}',
  p_descriptions => '{pgbench}', p_visibilities => '{1}', p_qr_enabled => '{f}',
  p_link_counts => '{0}', p_link_ids => '{}',
  p_request_ids => ARRAY['pgbench-' || :client_id || '-' || random()::text],
  p_slug_bases => '{stress-card}', p_lock_timeout_ms => 10000, p_wait_for_first => true);
