-- A trial for bench/write-instructions.ts --extra-sql (not a migration): the lookup indexes led by an
-- int8 key of (tenant, type, param), the text columns in INCLUDE, per-resource indexes on (id, key).
-- Measured 2026-12-01 on the write SQL of 79e52a4: 1,306,000 -> 1,097,000 instructions per batched create
-- (-16%); the generated column itself costs ~150,000 of what remains. Readers of the lookup indexes do not use the key yet.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
    ('token', 'code, id, system', ''), ('reference', 'ref_id, ref_type, id', ', ref_type, ref_id'), ('date', 'low, high, id', ''),
    ('quantity', 'low, high, id', ''), ('string', 'value, id', ''), ('number', 'low, high, id', ''), ('uri', 'value, id', '')
  ) AS v(name, lookup, carried) LOOP
    EXECUTE format($f$ALTER TABLE search_%1$s ADD COLUMN pkey int8 GENERATED ALWAYS AS (hashtextextended(tenant_id || '|' || resource_type || '|' || param, 0)) STORED;
      DROP INDEX search_%1$s_lookup; CREATE INDEX search_%1$s_lookup ON search_%1$s (pkey, %2$s) INCLUDE (tenant_id, resource_type, param);
      DROP INDEX search_%1$s_resource; CREATE INDEX search_%1$s_resource ON search_%1$s (id, pkey) INCLUDE (tenant_id, resource_type, param%3$s)$f$,
      t.name, t.lookup, t.carried);
  END LOOP;
  DROP INDEX search_date_high;
  CREATE INDEX search_date_high ON search_date (pkey, high, low, id) INCLUDE (tenant_id, resource_type, param);
END
$$;
