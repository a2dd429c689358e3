/**
 * A trial of narrower index rows, before any reader is changed for them: the batched create
 * statement of write-statements.ts (observation.json, batch of 8) as the server sends it, against
 * the same statement writing NULL for tenant_id, resource_type and param in search_token,
 * search_reference, search_date and search_quantity (the 64-bit key alone names them), into tables
 * whose indexes no longer carry those columns: lookup indexes without INCLUDE, per-resource
 * indexes on (id, pkey). A NULL costs a bit in the row's null bitmap, so the rows are as narrow as
 * rows without those columns would be. Runs each through `pgbench -M prepared` at one client,
 * alternating with the statement without index rows, and prints µs and WAL bytes per create.
 *
 * Usage: npx tsx bench/narrow-rows-trial.ts [--seconds 4] [--rounds 6]
 * Drops and creates the databases segimed_wc_wide and segimed_wc_narrow (BENCH_DATABASE_URL's server).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freshWriteCostDatabase, runPgbench, WRITE_COST_TENANT, writeCases } from './write-statements.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '4' }, rounds: { type: 'string', default: '6' } } })
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const BATCH = 8
const KEYED = ['search_token', 'search_reference', 'search_date', 'search_quantity']

const NARROW_SQL = `
${KEYED.flatMap((t) => ['tenant_id', 'resource_type', 'param'].map((c) => `ALTER TABLE ${t} ALTER COLUMN ${c} DROP NOT NULL;`)).join('\n')}
DROP INDEX search_token_lookup, search_token_resource, search_reference_lookup, search_reference_resource,
  search_date_lookup, search_date_high, search_date_resource, search_quantity_lookup, search_quantity_resource;
CREATE INDEX search_token_lookup ON search_token (pkey, code, id, system);
CREATE INDEX search_token_resource ON search_token (id, pkey);
CREATE INDEX search_reference_lookup ON search_reference (pkey, ref_id, ref_type, id);
CREATE INDEX search_reference_resource ON search_reference (id, pkey) INCLUDE (ref_type, ref_id);
CREATE INDEX search_date_lookup ON search_date (pkey, low, high, id);
CREATE INDEX search_date_high ON search_date (pkey, high, low, id);
CREATE INDEX search_date_resource ON search_date (id, pkey);
CREATE INDEX search_quantity_lookup ON search_quantity (pkey, low, high, id);
CREATE INDEX search_quantity_resource ON search_quantity (id, pkey);`

/** The server's statement with NULL for the named columns of the keyed tables (the date span still gets its names). */
function narrowed(script: string): string {
  const insert = new RegExp(`(INSERT INTO (?:${KEYED.join('|')}) \\([^)]*\\) )SELECT '${WRITE_COST_TENANT}', d\\.resource_type, d\\.id, u\\.param,`, 'g')
  const out = script
    .replace(insert, '$1SELECT NULL, NULL, d.id, NULL,')
    .replace('RETURNING tenant_id, resource_type, param, low, high', `RETURNING '${WRITE_COST_TENANT}'::text AS tenant_id, 'Observation'::text AS resource_type, 'date'::text AS param, low, high`)
  if ((out.match(/SELECT NULL, NULL, d\.id, NULL,/g) ?? []).length !== KEYED.length) throw new Error('the batch statement changed shape: update narrowed()')
  return out
}

async function walBytes(url: string): Promise<bigint> {
  const client = new pg.Client(url)
  await client.connect()
  const { rows } = await client.query<{ lsn: string }>(`SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn`)
  await client.end()
  return BigInt(rows[0]!.lsn)
}

const dir = mkdtempSync(join(tmpdir(), 'segimed-narrow-'))
const sqlFile = join(dir, 'narrow.sql')
writeFileSync(sqlFile, NARROW_SQL)
const wideUrl = await freshWriteCostDatabase(adminUrl, 'segimed_wc_wide', undefined)
const narrowUrl = await freshWriteCostDatabase(adminUrl, 'segimed_wc_narrow', sqlFile)
const [, , withIndex, without] = await writeCases(BATCH)
const runs = [
  { name: 'as today', url: wideUrl, script: withIndex!.script },
  { name: 'narrow', url: narrowUrl, script: narrowed(withIndex!.script) },
  { name: 'without index rows', url: wideUrl, script: without!.script },
].map((r, i) => {
  const file = join(dir, `case${i}.sql`)
  writeFileSync(file, r.script)
  return { ...r, file, micros: [] as number[], wal: 0n, creates: 0 }
})
console.log(`Narrower index rows, batch of ${BATCH} (pgbench -M prepared, 1 client, ${args.rounds} alternating rounds of ${args.seconds} s):`)
for (let round = 0; round < Number(args.rounds); round++) {
  for (const run of round % 2 ? [...runs].reverse() : runs) {
    const before = await walBytes(run.url)
    const { tps, transactions } = runPgbench(run.file, run.url, args.seconds)
    run.wal += (await walBytes(run.url)) - before
    run.creates += transactions * BATCH
    run.micros.push(1e6 / tps / BATCH)
  }
}
for (const run of runs) {
  const sorted = [...run.micros].sort((a, b) => a - b)
  console.log(`  ${run.name.padEnd(19)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} µs per create (rounds ${run.micros.map((m) => m.toFixed(0)).join(' ')}), WAL ${(Number(run.wal) / run.creates).toFixed(0)} bytes per create`)
}
rmSync(dir, { recursive: true })
