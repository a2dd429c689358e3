/**
 * What the create statements cost PostgreSQL alone, with and without index rows: the server's own
 * write SQL (resource-store.ts for one create, bulk-sql.ts for a coalesced batch) with the index rows
 * of `observation.json`, run by `pgbench -M prepared` at one client against a fresh database, the
 * four scripts alternating. No Node, HTTP or validation in the loop, so the figure moves only with
 * the storage design (tables, indexes, key widths) and PostgreSQL's settings: the measure to use when
 * changing them. `npm run bench` gives the same ratio for the whole server over HTTP.
 *
 * Usage: npx tsx bench/write-sql-cost.ts [--seconds 6] [--rounds 4] [--batch 8]
 * Needs `pgbench` on the PATH; BENCH_DATABASE_URL as in run.ts (the database `segimed_write_cost` is
 * dropped and created).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CompiledQuery, sql } from 'kysely'
import pg from 'pg'
import type { Resource } from '@medplum/fhirtypes'
import { createDb } from '../src/db/connect.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { BulkRows } from '../src/resources/bulk-rows.js'
import { insertResources } from '../src/resources/bulk-sql.js'
import { r4SearchParamRegistry } from '../src/resources/indexing/registry.js'
import { indexRowsFor } from '../src/resources/indexing/resource-indexer.js'
import { IndexRows } from '../src/resources/indexing/rows.js'
import { ResourceStore } from '../src/resources/resource-store.js'
import { stampMeta } from '../src/resources/versioning.js'

const DATABASE = 'segimed_write_cost'
const TENANT = 'bench-write-cost'
/** Stands for the id part that each execution makes fresh (see `literal`). */
const ID_MARK = 'IDMARK'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '6' }, rounds: { type: 'string', default: '4' }, batch: { type: 'string', default: '8' } } })
const seconds = Number(args.seconds)
const rounds = Number(args.rounds)
const batch = Number(args.batch)
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const source = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'observation.json'), 'utf8')) as Resource

/** The statement a write would send, taken from the real code through an executor that only records it. */
async function captured(write: (db: never) => Promise<unknown>): Promise<CompiledQuery> {
  let query: CompiledQuery | undefined
  await write({ executeQuery: async (q: CompiledQuery) => ((query = q), { rows: [] }) } as never)
  return query!
}

function versionOf(n: number, withIndex: boolean) {
  const id = `${ID_MARK}${n}x`
  const lastUpdated = new Date('2026-01-01T00:00:00Z')
  const stamped = stampMeta(source, id, 1, lastUpdated)
  const index = withIndex ? indexRowsFor({ registry: r4SearchParamRegistry(), serverUrl: 'http://localhost:8080' }, TENANT, stamped) : new IndexRows()
  return { id, lastUpdated, json: JSON.stringify(stamped), index }
}

const single = (withIndex: boolean) =>
  captured((db) => {
    const v = versionOf(0, withIndex)
    return new ResourceStore(db).insertNew({ tenantId: TENANT, resourceType: 'Observation', id: v.id, versionId: 1, lastUpdated: v.lastUpdated, deleted: false, method: 'POST', json: v.json, index: v.index })
  })

const bulk = (withIndex: boolean) =>
  captured((db) => {
    const rows = new BulkRows()
    for (let n = 0; n < batch; n++) {
      const v = versionOf(n, withIndex)
      rows.add({ type: 'Observation', id: v.id, version: 1, lastUpdated: v.lastUpdated, method: 'POST', content: v.json, index: v.index })
    }
    return insertResources(db, TENANT, rows)
  })

/**
 * A parameter as SQL text. pgbench reads `:name` as its variable, so such colons travel as chr(1);
 * ids get a fresh time-ordered prefix per execution (the CTE `k`), as server ids are (resource-id.ts).
 */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  const text = value instanceof Date ? value.toISOString() : Array.isArray(value) ? `{${value.map((x) => (x === null ? 'NULL' : `"${String(x).replace(/["\\]/g, '\\$&')}"`)).join(',')}}` : String(value)
  let out = `'${text.replace(/'/g, "''")}'`
  if (/:[A-Za-z0-9_]/.test(out)) out = `replace(${out.replace(/:/g, '\u0001')}, chr(1), chr(58))`
  if (text.includes(ID_MARK)) out = `replace(${out}, '${ID_MARK}', (SELECT p FROM k))`
  return value instanceof Date ? `(${out})::timestamptz` : out
}

function script(query: CompiledQuery): string {
  const text = query.sql.replace(/^\/\* prepared \*\/ /, '').replace(/\$(\d+)/g, (_, n: string) => literal(query.parameters[Number(n) - 1]))
  const fresh = `k AS (SELECT lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1e6)::bigint), 14, '0') || md5(random()::text) AS p), `
  return `${text.replace(/^WITH /, `WITH ${fresh}`).replace(/\s*\n\s*/g, ' ')};\n`
}

function tps(file: string, databaseUrl: string): number {
  const out = execFileSync('pgbench', ['-n', '-M', 'prepared', '-c', '1', '-T', String(seconds), '-f', file, databaseUrl], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const match = /tps = ([\d.]+)/.exec(out)
  if (!match) throw new Error(`pgbench printed no tps:\n${out}`)
  return Number(match[1])
}

async function main() {
  const admin = new pg.Client(adminUrl)
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${DATABASE}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${DATABASE}`
  const { db, close } = await createDb({ databaseUrl: url.toString(), dataDir: '', poolSize: 1 })
  await migrateToLatest(db)
  await sql`INSERT INTO tenant (tenant_id, name, organization_id) VALUES (${TENANT}, 'write cost', 'bench')`.execute(db)
  await close()

  const dir = mkdtempSync(join(tmpdir(), 'segimed-write-cost-'))
  const cases = [
    { name: 'one create, with index rows', creates: 1, query: await single(true) },
    { name: 'one create, without', creates: 1, query: await single(false) },
    { name: `batch of ${batch}, with index rows`, creates: batch, query: await bulk(true) },
    { name: `batch of ${batch}, without`, creates: batch, query: await bulk(false) },
  ].map((c, i) => {
    const file = join(dir, `case${i}.sql`)
    writeFileSync(file, script(c.query))
    return { ...c, file, micros: [] as number[] }
  })
  console.log(`PostgreSQL cost of the create statements (pgbench -M prepared, 1 client, ${rounds} alternating rounds of ${seconds} s, database ${DATABASE}):`)
  try {
    for (let round = 0; round < rounds; round++) {
      for (const c of round % 2 === 0 ? cases : [...cases].reverse()) c.micros.push(1e6 / (tps(c.file, url.toString()) * c.creates))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  for (const c of cases) console.log(`  ${c.name.padEnd(32)} ${mean(c.micros).toFixed(0).padStart(5)} µs per create  (rounds: ${c.micros.map((x) => x.toFixed(0)).join(' ')})`)
  const ratio = (a: number, b: number) => (mean(cases[a]!.micros) / mean(cases[b]!.micros)).toFixed(2)
  console.log(`  ratio with / without index rows: one create ${ratio(0, 1)}x, batch of ${batch} ${ratio(2, 3)}x`)
}

await main()
