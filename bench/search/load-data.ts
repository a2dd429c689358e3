/**
 * Loads the search bench dataset into its own PostgreSQL database, once: generated resources
 * (generate.ts) with the server's own index rows (indexRowsFor), written with multi-row INSERTs
 * straight into resource, resource_history and the search_* tables (no HTTP, no validation per
 * resource: a sample is validated to guard the generator). Secondary indexes are dropped during
 * the load and rebuilt from their own definitions afterwards (what a bulk load does; each row
 * would otherwise update ~20 B-trees), then VACUUM ANALYZE. A state row records the size; the
 * next run reuses the database when it matches (`--reload` forces a new load).
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { createDb } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { r4SearchParamRegistry } from '../../src/resources/indexing/registry.js'
import { indexRowsFor, type SearchConfig } from '../../src/resources/indexing/resource-indexer.js'
import { createPgRepository } from '../../src/resources/pg-repository.js'
import { RAISE_ALL_DATE_SPANS_SQL } from '../../src/resources/date-span-sql.js'
import { FOLD_ALL_LIVE_COUNTS_SQL } from '../../src/resources/search/live-count.js'
import { createTenantStore } from '../../src/resources/tenants.js'
import { loadFhirDefinitions, validateResource } from '../../src/resources/validation/index.js'
import { stampMeta } from '../../src/resources/versioning.js'
import { BulkBatch, INDEX_TABLE_NAMES, writeBatch } from './bulk-insert.js'
import { generateTenant } from './generate.js'

/** Bump when generate.ts changes what it writes: a database loaded by another version is reloaded. */
export const GENERATOR_VERSION = 1
/** The newest migration: a dataset loaded under an older schema (other index rows) is reloaded. */
const SCHEMA = readdirSync(fileURLToPath(new URL('../../migrations', import.meta.url))).filter((f) => f.endsWith('.sql')).sort().pop() ?? ''
const BATCH_RESOURCES = 2000
const WRITERS = 2
const VALIDATED_SAMPLE = 300

export interface TenantPlan {
  tenantId: string
  seed: number
  /** Resources to generate for this tenant. */
  quota: number
}

/**
 * Four tenants; the first holds 60% of the resources (about half the dataset is its
 * Observations: 500,000 at 1,000,000), the others share the rest.
 */
export function tenantPlan(size: number): TenantPlan[] {
  const big = Math.round(size * 0.6)
  const small = Math.floor((size - big) / 3)
  return [
    { tenantId: 'bench-a', seed: 101, quota: big },
    { tenantId: 'bench-b', seed: 202, quota: small },
    { tenantId: 'bench-c', seed: 303, quota: small },
    { tenantId: 'bench-d', seed: 404, quota: size - big - 2 * small },
  ]
}

export interface LoadState {
  size: number
  generator: number
  /** The newest migration when the data was loaded. */
  schema?: string
  loadedAt: string
  loadSeconds: number
  /** Resources per tenant and type, and index rows written. */
  counts: Record<string, Record<string, number>>
  indexRows: number
  phases: Record<string, number>
}

export interface LoadOptions {
  adminUrl: string
  database: string
  size: number
  reload: boolean
  serverUrl: string
  log: (line: string) => void
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/** Loads the dataset unless the database already holds it; returns what is there. */
export async function ensureLoaded(o: LoadOptions): Promise<{ state: LoadState; loadedNow: boolean }> {
  const existing = o.reload ? undefined : await readState(o)
  if (existing && existing.size === o.size && existing.generator === GENERATOR_VERSION && existing.schema === SCHEMA) return { state: existing, loadedNow: false }
  if (existing) o.log(`Database ${o.database} holds size ${existing.size} (generator v${existing.generator}, schema ${existing.schema ?? 'older'}); reloading for size ${o.size}, schema ${SCHEMA}`)
  return { state: await load(o), loadedNow: true }
}

async function readState(o: LoadOptions): Promise<LoadState | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl(o.adminUrl, o.database) })
  try {
    await client.connect()
  } catch {
    return undefined
  }
  try {
    const { rows } = await client.query<{ state: LoadState }>('SELECT state FROM bench_search_state LIMIT 1')
    return rows[0]?.state
  } catch {
    return undefined
  } finally {
    await client.end()
  }
}

async function recreateDatabase(o: LoadOptions): Promise<void> {
  const admin = new pg.Client({ connectionString: o.adminUrl })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${o.database} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${o.database}`)
  } finally {
    await admin.end()
  }
}

async function load(o: LoadOptions): Promise<LoadState> {
  const phases: Record<string, number> = {}
  const started = performance.now()
  let mark = started
  const phase = (name: string) => {
    const now = performance.now()
    phases[name] = (now - mark) / 1000
    mark = now
  }
  o.log(`Loading ${o.size.toLocaleString('en')} resources into ${o.database} (4 tenants)...`)
  await recreateDatabase(o)
  const url = databaseUrl(o.adminUrl, o.database)
  loadFhirDefinitions()
  const config: SearchConfig = { registry: r4SearchParamRegistry(), serverUrl: o.serverUrl }
  const plans = tenantPlan(o.size)
  const { db, close } = await createDb({ databaseUrl: url, dataDir: '', poolSize: 2 })
  try {
    await migrateToLatest(db)
    const tenants = createTenantStore(db, createPgRepository({ db, serverUrl: o.serverUrl }))
    for (const t of plans) await tenants.ensure(t.tenantId, `Clínica ${t.tenantId.slice(-1).toUpperCase()}`)
  } finally {
    await close()
  }
  phase('create and migrate')

  // A bench load need not wait for each commit's WAL flush (a crash means a reload anyway).
  const pool = new pg.Pool({ connectionString: url, max: WRITERS + 1, options: '-c synchronous_commit=off' })
  try {
    const indexes = await dropSecondaryIndexes(pool)
    phase('drop indexes')
    const { counts, indexRows } = await writeAll(pool, config, plans, o)
    phase('generate, index and insert')
    o.log(`  rebuilding ${indexes.length} indexes...`)
    await rebuildIndexes(pool, indexes)
    phase('rebuild indexes')
    // The rows went in without the writers' span CTE (src/resources/date-span-sql.ts).
    await pool.query(RAISE_ALL_DATE_SPANS_SQL)
    // The live-count trigger added a row per batch statement; one per type is what a server leaves.
    await pool.query(FOLD_ALL_LIVE_COUNTS_SQL)
    await pool.query('VACUUM ANALYZE')
    phase('vacuum analyze')
    const loadSeconds = (performance.now() - started) / 1000
    const state: LoadState = { size: o.size, generator: GENERATOR_VERSION, schema: SCHEMA, loadedAt: new Date().toISOString(), loadSeconds, counts, indexRows, phases }
    await pool.query('CREATE TABLE bench_search_state (state jsonb NOT NULL)')
    await pool.query('INSERT INTO bench_search_state (state) VALUES ($1)', [JSON.stringify(state)])
    return state
  } finally {
    await pool.end()
  }
}

async function writeAll(pool: pg.Pool, config: SearchConfig, plans: TenantPlan[], o: LoadOptions) {
  const counts: Record<string, Record<string, number>> = {}
  const inFlight = new Set<Promise<void>>()
  let failure: unknown
  let indexRows = 0
  let written = 0
  let nextReport = 0.1
  const startMs = Date.UTC(2025, 0, 1)
  const t0 = performance.now()
  const flush = async (batch: BulkBatch) => {
    if (batch.resources === 0) return
    while (inFlight.size >= WRITERS) await Promise.race(inFlight)
    if (failure) throw failure
    const write = (async () => {
      const client = await pool.connect()
      try {
        await writeBatch(client, batch)
        written += batch.resources
        indexRows += batch.indexRows
      } finally {
        client.release()
      }
    })()
      .catch((e: unknown) => void (failure ??= e))
      .finally(() => inFlight.delete(write))
    inFlight.add(write)
  }
  let made = 0
  for (const plan of plans) {
    const perType: Record<string, number> = (counts[plan.tenantId] = {})
    let batch = new BulkBatch()
    const generator = generateTenant(plan.seed)
    for (let i = 0; i < plan.quota; i++) {
      const resource = generator.next().value!
      const lastUpdated = new Date(startMs + made)
      const stamped = stampMeta(resource, resource.id!, 1, lastUpdated)
      if (made < VALIDATED_SAMPLE) assertValid(stamped)
      batch.add(plan.tenantId, stamped.resourceType, stamped.id!, lastUpdated.toISOString(), JSON.stringify(stamped), indexRowsFor(config, plan.tenantId, stamped))
      perType[stamped.resourceType] = (perType[stamped.resourceType] ?? 0) + 1
      made++
      if (batch.resources === BATCH_RESOURCES) {
        await flush(batch)
        batch = new BulkBatch()
      }
      if (made >= nextReport * o.size) {
        const s = (performance.now() - t0) / 1000
        o.log(`  ${Math.round(nextReport * 100)}%: ${made.toLocaleString('en')} generated, ${written.toLocaleString('en')} written, ${fmtRate(written, s)} res/s, ${fmtRate(indexRows, s)} index rows/s`)
        nextReport += 0.1
      }
    }
    await flush(batch)
  }
  await Promise.all(inFlight)
  if (failure) throw failure
  const s = (performance.now() - t0) / 1000
  o.log(`  inserted ${written.toLocaleString('en')} resources and ${indexRows.toLocaleString('en')} index rows in ${s.toFixed(1)} s (${fmtRate(written, s)} res/s)`)
  return { counts, indexRows }
}

function assertValid(resource: Parameters<typeof validateResource>[0]): void {
  const errors = validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal')
  if (errors.length) throw new Error(`generator wrote an invalid resource: ${JSON.stringify(errors.slice(0, 3))}`)
}

/** Secondary (non-constraint) indexes of the tables the load writes, dropped; returns their definitions. */
async function dropSecondaryIndexes(pool: pg.Pool): Promise<{ name: string; definition: string }[]> {
  const { rows } = await pool.query<{ name: string; definition: string }>(
    `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
     WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [['resource', 'resource_history', ...INDEX_TABLE_NAMES]],
  )
  for (const r of rows) await pool.query(`DROP INDEX ${r.name}`)
  return rows
}

/** Rebuilds the indexes from their definitions, two at a time (one per core). */
async function rebuildIndexes(pool: pg.Pool, indexes: { name: string; definition: string }[]): Promise<void> {
  const queue = [...indexes]
  const worker = async () => {
    const client = await pool.connect()
    try {
      await client.query(`SET maintenance_work_mem = '512MB'`)
      await client.query('SET max_parallel_maintenance_workers = 0')
      for (let next = queue.shift(); next; next = queue.shift()) await client.query(next.definition)
    } finally {
      client.release()
    }
  }
  await Promise.all([worker(), worker()])
}

export function fmtRate(n: number, seconds: number): string {
  return seconds > 0 ? Math.round(n / seconds).toLocaleString('en') : '-'
}
