-- The create transaction card-server runs, spread over :users users.
\set u random(1, :users)
SELECT * FROM card_create('compare-spread-' || :u, 'Stress card', 'pgbench', 1::smallint,
  false, '{}'::uuid[], 'pgbench-' || :client_id || '-' || random()::text, 'stress-card', 10000);
