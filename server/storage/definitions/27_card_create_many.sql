-- SPDX-License-Identifier: Apache-2.0
-- SPDX-FileCopyrightText: 2026 The CardService Authors
-- Creates several cards in one transaction: group commit. The server calls it
-- with the creates that queued while earlier transactions ran: a hot user's
-- creates then share one lock and one commit instead of taking turns at one
-- commit each, and creates of several users share one commit.
--
-- Item i is (p_user_ids[i], p_titles[i], ..., p_slug_bases[i]); its links are
-- the next p_link_counts[i] ids of p_link_ids. Items run in array order, which
-- is arrival order. Each item gets its own outcome, as rows with item = i:
-- either its card in the card_rows shape (one row per link), or one row with
-- error_sqlstate/error_message set (the CS codes of storage/README.md) and
-- nothing written for it. Per-item refusals are decided before the item
-- writes, never raised, so one bad item does not undo the others and no
-- subtransaction is needed. Anything raised (lock or statement timeout, a
-- backstop violation) fails the whole call, and nothing of it is committed.
--
-- Locks: with p_wait_for_first, the first item's user with card_lock_user,
-- waiting up to p_lock_timeout_ms; every other user with card_try_lock_user,
-- which never waits. A transaction therefore waits only while it holds no
-- lock: two of these never deadlock, and a batch of several users never waits
-- on one of them (the server passes p_wait_for_first only for one user's
-- batch). Items of a user whose lock was busy come back with error_sqlstate
-- 'CS503': not attempted, run them again.
--
-- Must run under READ COMMITTED in autocommit (one statement, one transaction):
-- each statement below sees every commit made before its user's lock was granted.
CREATE OR REPLACE FUNCTION card_create_many(
    p_user_ids text[], p_titles text[], p_descriptions text[], p_visibilities smallint[],
    p_qr_enabled boolean[], p_link_counts integer[], p_link_ids uuid[],
    p_request_ids text[], p_slug_bases text[], p_lock_timeout_ms integer,
    p_wait_for_first boolean)
  RETURNS TABLE (item integer, error_sqlstate text, error_message text,
                 id uuid, user_id text, title text, description text, slug text,
                 visibility smallint, qr_enabled boolean, is_default boolean,
                 create_us bigint, update_us bigint, version bigint,
                 link_id uuid, link_platform text, link_username text, link_url text,
                 link_position integer, link_create_us bigint)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_locked text[] := '{}';
  v_busy text[] := '{}';
  v_user text;
  v_links uuid[];
  v_link_end integer := 0;
  v_request_id text;
  v_fingerprint text;
  v_request record;
  v_problem record;
  v_card_id uuid;
  v_slug text;
  v_now timestamptz;
  v_is_default boolean;
  v_hex text;
  -- Citus only: the hash range of the current user's shard (below).
  v_citus boolean := to_regclass('pg_catalog.pg_dist_shard') IS NOT NULL;
  v_range_user text;
  v_slug_min integer;
  v_slug_max integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_user_ids, 1), 0) LOOP
    v_user := p_user_ids[i];
    v_links := p_link_ids[v_link_end + 1 : v_link_end + p_link_counts[i]];
    v_link_end := v_link_end + p_link_counts[i];

    IF v_user <> ALL (v_locked) THEN
      IF v_user = ANY (v_busy) THEN
        RETURN QUERY SELECT i, 'CS503', 'user_id: lock busy; not attempted', (NULL::card_rows).*;
        CONTINUE;
      ELSIF i = 1 AND p_wait_for_first THEN
        PERFORM card_lock_user(v_user, p_lock_timeout_ms);
      ELSIF NOT card_try_lock_user(v_user) THEN
        v_busy := v_busy || v_user;
        RETURN QUERY SELECT i, 'CS503', 'user_id: lock busy; not attempted', (NULL::card_rows).*;
        CONTINUE;
      END IF;
      v_locked := v_locked || v_user;
    END IF;

    -- Under the lock, so a user's cards are created in commit order and a
    -- client paging by (create_time, id) never misses one committed behind it.
    v_now := clock_timestamp();

    v_request_id := p_request_ids[i];
    IF v_request_id <> '' THEN
      -- The same fingerprint as card_create has always stored.
      v_fingerprint := md5(concat_ws(E'\x1f', p_titles[i], p_descriptions[i],
                                     p_visibilities[i], p_qr_enabled[i],
                                     array_to_string(v_links, ',')));
      -- Also finds a row an earlier item of this call wrote: a retry that
      -- arrived while its first attempt was still queued.
      SELECT r.card_id, r.fingerprint INTO v_request FROM create_requests r
      WHERE r.user_id = v_user AND r.request_id = v_request_id;
      IF FOUND THEN
        IF v_request.fingerprint <> v_fingerprint THEN
          RETURN QUERY SELECT i, 'CS409',
            'request_id: already used for a create with different content', (NULL::card_rows).*;
        ELSE
          RETURN QUERY SELECT i, NULL::text, NULL::text, r.* FROM card_row_set(v_user, v_request.card_id) r;
          IF NOT FOUND THEN
            RETURN QUERY SELECT i, 'CS409',
              'request_id: already used; the card it created has been deleted',
              (NULL::card_rows).*;
          END IF;
        END IF;
        CONTINUE;
      END IF;
    END IF;

    IF cardinality(v_links) > 0 THEN
      v_problem := card_links_problem(v_user, v_links);
      IF v_problem.sqlstate IS NOT NULL THEN
        RETURN QUERY SELECT i, v_problem.sqlstate, v_problem.message, (NULL::card_rows).*;
        CONTINUE;
      END IF;
    END IF;

    -- Decided under the lock, on a snapshot taken after it was granted; sees
    -- the cards earlier items of this call made.
    v_is_default := NOT EXISTS (SELECT 1 FROM cards c WHERE c.user_id = v_user AND c.is_default);

    -- The slug is unique across users, who do not share a lock: it is claimed
    -- in card_slugs (keyed by slug alone), and ON CONFLICT makes a collision
    -- a retry with a new suffix, never a check-then-insert race. The suffix is
    -- card_slug_suffix() written out: 80 random bits.
    -- On Citus card_slugs is distributed by slug and co-located with cards, and
    -- a suffix is kept only if the slug falls in the user's own shard (1 try
    -- in shard_count): the claim is then written on the user's node, in this
    -- transaction, not on another node over a connection Citus would open
    -- for this transaction alone and a two-phase commit.
    IF v_citus AND v_range_user IS DISTINCT FROM v_user THEN
      SELECT s.shardminvalue::integer, s.shardmaxvalue::integer
      INTO v_slug_min, v_slug_max
      FROM pg_dist_shard s
      WHERE s.logicalrelid = 'card_slugs'::regclass
        AND worker_hash(v_user) BETWEEN s.shardminvalue::integer AND s.shardmaxvalue::integer;
      v_range_user := v_user;
    END IF;
    v_card_id := gen_random_uuid();
    LOOP
      v_hex := replace(gen_random_uuid()::text, '-', '');
      v_slug := p_slug_bases[i] || '-' || left(v_hex, 12) || substr(v_hex, 14, 3) ||
                substr(v_hex, 18, 5);
      -- In an IF of its own: PL/pgSQL plans a whole expression when it first
      -- runs it, and worker_hash exists only where Citus is installed.
      IF v_slug_min IS NOT NULL THEN
        CONTINUE WHEN worker_hash(v_slug) NOT BETWEEN v_slug_min AND v_slug_max;
      END IF;
      INSERT INTO card_slugs (slug, user_id, card_id)
      VALUES (v_slug, v_user, v_card_id)
      ON CONFLICT (slug) DO NOTHING;
      EXIT WHEN FOUND;
    END LOOP;
    INSERT INTO cards (id, user_id, title, description, slug, visibility, qr_enabled,
                       is_default, create_time, update_time)
    VALUES (v_card_id, v_user, p_titles[i], p_descriptions[i], v_slug,
            p_visibilities[i], p_qr_enabled[i], v_is_default, v_now, v_now);

    IF cardinality(v_links) > 0 THEN
      INSERT INTO card_links (user_id, card_id, link_id, position)
      SELECT v_user, v_card_id, t.link_id, t.ord - 1
      FROM unnest(v_links) WITH ORDINALITY AS t(link_id, ord);
    END IF;

    IF v_request_id <> '' THEN
      INSERT INTO create_requests (user_id, request_id, card_id, fingerprint)
      VALUES (v_user, v_request_id, v_card_id, v_fingerprint);
    END IF;

    IF cardinality(v_links) > 0 THEN
      RETURN QUERY SELECT i, NULL::text, NULL::text, r.* FROM card_row_set(v_user, v_card_id) r;
    ELSE
      -- The row card_rows would show, without reading it back.
      item := i; error_sqlstate := NULL; error_message := NULL;
      id := v_card_id; user_id := v_user; title := p_titles[i];
      description := p_descriptions[i]; slug := v_slug; visibility := p_visibilities[i];
      qr_enabled := p_qr_enabled[i]; is_default := v_is_default;
      create_us := card_epoch_us(v_now); update_us := create_us; version := 1;
      link_id := NULL; link_platform := NULL; link_username := NULL; link_url := NULL;
      link_position := NULL; link_create_us := NULL;
      RETURN NEXT;
    END IF;
  END LOOP;
END $$;
