/**
 * The create statements the server sends, as self-contained SQL scripts, for the write-cost tools
 * (write-sql-cost.ts: pgbench wall time; write-instructions.ts: instructions under callgrind): one
 * create as resource-store.ts sends it and a coalesced batch as bulk-sql.ts does, each with and
 * without the index rows of `observation.json`. Taken from the real code through an executor that
 * only records the statement, so the scripts follow every change to the write path.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql, type CompiledQuery, type Kysely } from 'kysely'
import pg from 'pg'
import type { Resource } from '@medplum/fhirtypes'
import { createDb } from '../src/db/connect.js'
import type { Database } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { BulkRows } from '../src/resources/bulk-rows.js'
import { insertResources } from '../src/resources/bulk-sql.js'
import { r4SearchParamRegistry } from '../src/resources/indexing/registry.js'
import { indexRowsFor } from '../src/resources/indexing/resource-indexer.js'
import { IndexRows } from '../src/resources/indexing/rows.js'
import { ResourceStore } from '../src/resources/resource-store.js'
import { stampMeta } from '../src/resources/versioning.js'

export const WRITE_COST_TENANT = 'bench-write-cost'
/** Stands for the id part that each execution makes fresh (see `literal`). */
const ID_MARK = 'IDMARK'

const source = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'observation.json'), 'utf8')) as Resource

export interface WriteCase {
  name: string
  creates: number
  withIndex: boolean
  /** One line of SQL, `;`-terminated, that writes `creates` new resources with fresh ids each run. */
  script: string
}

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
  const index = withIndex ? indexRowsFor({ registry: r4SearchParamRegistry(), serverUrl: 'http://localhost:8080' }, WRITE_COST_TENANT, stamped) : new IndexRows()
  return { id, lastUpdated, json: JSON.stringify(stamped), index }
}

const single = (withIndex: boolean) =>
  captured((db) => {
    const v = versionOf(0, withIndex)
    return new ResourceStore(db).insertNew({ tenantId: WRITE_COST_TENANT, resourceType: 'Observation', id: v.id, versionId: 1, lastUpdated: v.lastUpdated, deleted: false, method: 'POST', json: v.json, index: v.index })
  })

const bulk = (withIndex: boolean, batch: number) =>
  captured((db) => {
    const rows = new BulkRows()
    for (let n = 0; n < batch; n++) {
      const v = versionOf(n, withIndex)
      rows.add({ type: 'Observation', id: v.id, version: 1, lastUpdated: v.lastUpdated, method: 'POST', content: v.json, index: v.index })
    }
    return insertResources(db, WRITE_COST_TENANT, rows)
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

/** The four cases: one create and a batch of `batch`, each with and without index rows. */
export async function writeCases(batch: number): Promise<WriteCase[]> {
  return [
    { name: 'one create, with index rows', creates: 1, withIndex: true, script: script(await single(true)) },
    { name: 'one create, without', creates: 1, withIndex: false, script: script(await single(false)) },
    { name: `batch of ${batch}, with index rows`, creates: batch, withIndex: true, script: script(await bulk(true, batch)) },
    { name: `batch of ${batch}, without`, creates: batch, withIndex: false, script: script(await bulk(false, batch)) },
  ]
}

/** A fresh database made ready for the scripts: migrated, then `extraSqlFile` (a trial design) run, then the tenant added. */
export async function prepareWriteCostDatabase(db: Kysely<Database>, extraSqlFile: string | undefined): Promise<void> {
  await migrateToLatest(db)
  if (extraSqlFile) await sql.raw(readFileSync(extraSqlFile, 'utf8')).execute(db)
  await sql`INSERT INTO tenant (tenant_id, name, organization_id) VALUES (${WRITE_COST_TENANT}, 'write cost', 'bench')`.execute(db)
}

/**
 * Drops and creates `database` on the server of `adminUrl`, made ready as prepareWriteCostDatabase
 * does; returns its URL (write-sql-cost.ts and wal-by-relation.ts run their scripts against it).
 */
export async function freshWriteCostDatabase(adminUrl: string, database: string, extraSqlFile: string | undefined): Promise<string> {
  const admin = new pg.Client(adminUrl)
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${database}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  const { db, close } = await createDb({ databaseUrl: url.toString(), dataDir: '', poolSize: 1 })
  await prepareWriteCostDatabase(db, extraSqlFile)
  await close()
  return url.toString()
}

/** Runs a script through `pgbench -M prepared` at one client for `seconds`: its rate and how many times it ran. */
export function runPgbench(file: string, databaseUrl: string, seconds: number | string): { tps: number; transactions: number } {
  const out = execFileSync('pgbench', ['-n', '-M', 'prepared', '-c', '1', '-T', String(seconds), '-f', file, databaseUrl], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const tps = /tps = ([\d.]+)/.exec(out)
  const done = /transactions actually processed: (\d+)/.exec(out)
  if (!tps || !done) throw new Error(`pgbench printed no tps:\n${out}`)
  return { tps: Number(tps[1]), transactions: Number(done[1]) }
}
