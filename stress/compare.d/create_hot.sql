-- The create transaction card-server runs (one call, one round trip), all
-- clients on one user. Each transaction gets a fresh request id.
SELECT * FROM card_create('compare-hot', 'Stress card', 'pgbench', 1::smallint, false,
  '{}'::uuid[], 'pgbench-' || :client_id || '-' || random()::text, 'stress-card', 10000);
