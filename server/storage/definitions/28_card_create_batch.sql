-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- One user's creates in one transaction: card_create_many for a batch whose
-- items are all p_user_id's, waiting for that user's lock. The user is a plain
-- argument, not an array, so that on Citus this function is distributed by it
-- and each call runs on the node that holds the user's rows and takes the
-- user's lock there (storage/citus_setup.cc); card_create_many, which takes
-- several users, cannot be. Same arguments otherwise, same rows back.
CREATE OR REPLACE FUNCTION card_create_batch(
    p_user_id text, p_titles text[], p_descriptions text[], p_visibilities smallint[],
    p_qr_enabled boolean[], p_link_counts integer[], p_link_ids uuid[],
    p_request_ids text[], p_slug_bases text[], p_lock_timeout_ms integer)
  RETURNS TABLE (item integer, error_sqlstate text, error_message text,
                 id uuid, user_id text, title text, description text, slug text,
                 visibility smallint, qr_enabled boolean, is_default boolean,
                 create_us bigint, update_us bigint, version bigint,
                 link_id uuid, link_platform text, link_username text, link_url text,
                 link_position integer, link_create_us bigint)
  LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM card_create_many(
    array_fill(p_user_id, ARRAY[coalesce(array_length(p_titles, 1), 0)]),
    p_titles, p_descriptions, p_visibilities, p_qr_enabled, p_link_counts, p_link_ids,
    p_request_ids, p_slug_bases, p_lock_timeout_ms, true);
END $$;
