/**
 * `npm run bench:search [-- --size 1000000 --reload --seconds 5 --concurrency 1,16 --scenarios a,b]`:
 * the search benchmark of issue 3 item 7 on PostgreSQL. Loads the dataset once (load-data.ts),
 * measures what indexing adds to a create, then runs every scenario through our real HTTP server
 * and its hand-written SQL baseline at each concurrency. See bench/search/README.md.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { LoadPlan, LoadResult } from '../load.js'
import { loadFhirDefinitions } from '../../src/resources/validation/index.js'
import { measureIndexingCost, type IndexingCost } from './indexing-cost.js'
import { databaseUrl, ensureLoaded, fmtRate, type LoadState } from './load-data.js'
import { children, runJsonChild, startServer, stopAll } from './processes.js'
import { fmt, printIndexingCost, printResults, targetsOf, type ResultRow } from './report.js'
import { buildScenarios, deepWalkStarts, type Samples, type Scenario } from './scenarios.js'
import { probeScenario, walkToPage } from './probe.js'
import { prewarm } from './prewarm.js'
import { measureInRounds } from './rounds.js'
import type { SqlLoadPlan } from './sql-load.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** Creates per side of the indexing-cost measure: at 600 its c=16 ratio moved ±0.3 between runs; at 3,000 it holds within ±0.1. */
const INDEXING_COST_CREATES = 3000
const TENANT = 'bench-a'
const CLIENT_ID = 'bench-search'
const CLIENT_SECRET = 'bench-search-secret-123456'

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '1000000' },
    reload: { type: 'boolean', default: false },
    database: { type: 'string', default: 'segimed_bench_search' },
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,16' },
    scenarios: { type: 'string' },
    'pool-size': { type: 'string', default: '10' },
    port: { type: 'string', default: '18095' },
    'load-only': { type: 'boolean', default: false },
    'skip-indexing-cost': { type: 'boolean', default: false },
  },
})

function positive(name: string, raw: string): number {
  const n = Number(raw.replace(/_/g, ''))
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`)
  return n
}

const settings = {
  size: Math.round(positive('size', args.size)),
  seconds: positive('seconds', args.seconds),
  rounds: Math.round(positive('rounds', args.rounds)),
  warmupSeconds: Number(args.warmup),
  concurrencies: args.concurrency.split(',').map((c) => positive('concurrency', c)),
  poolSize: positive('pool-size', args['pool-size']),
  port: positive('port', args.port),
  adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  database: args.database,
}
if (!/^[a-z_][a-z0-9_]*$/.test(settings.database)) throw new Error(`--database must be a plain lower-case identifier, got "${settings.database}"`)
const url = databaseUrl(settings.adminUrl, settings.database)
const origin = `http://127.0.0.1:${settings.port}`
const scratch = mkdtempSync(join(tmpdir(), 'segimed-bench-search-'))

async function main() {
  const startedAt = new Date()
  console.log(`Segimed FHIR search bench: ${settings.size.toLocaleString('en')} resources, c=${settings.concurrencies.join(',')}, ` +
    `${settings.seconds} s per side in ${settings.rounds} alternating rounds (each after a ${settings.warmupSeconds} s warm-up), ${cpus().length} CPUs, node ${process.version}`)
  const { state, loadedNow } = await ensureLoaded({ adminUrl: settings.adminUrl, database: settings.database, size: settings.size, reload: Boolean(args.reload), serverUrl: origin, log: console.log })
  printLoad(state, loadedNow)
  if (args['load-only']) return

  loadFhirDefinitions()
  const indexing: IndexingCost[] = []
  if (!args['skip-indexing-cost']) {
    // At c=1 nothing ever waits, so both paths are one statement per create: measured once.
    for (const [c, path] of [[1, 'grouped'], [16, 'grouped'], [16, 'alone']] as const) indexing.push(await measureIndexingCost(url, origin, INDEXING_COST_CREATES, c, path))
    printIndexingCost(indexing)
  }
  await prewarm(url, console.log)

  const server = await startServer(ROOT, settings.port, {
    DATABASE_URL: url,
    HOST: '127.0.0.1',
    BASE_URL: origin,
    DB_POOL_SIZE: String(settings.poolSize),
    BOOTSTRAP_TENANT: TENANT,
    BOOTSTRAP_CLIENT_ID: CLIENT_ID,
    BOOTSTRAP_CLIENT_SECRET: CLIENT_SECRET,
    AUTH_SECRET: randomBytes(32).toString('base64url'),
  })
  const headers = {
    authorization: `Bearer ${await fetchToken()}`,
    accept: 'application/fhir+json',
    // Strict: a parameter the server does not understand is a 400, never silently ignored.
    prefer: 'handling=strict',
  }
  const samples = await readSamples(headers)
  const wanted = args.scenarios?.split(',').map((s) => s.trim())
  const scenarios = buildScenarios(samples).filter((s) => !wanted || wanted.includes(s.name))
  const rows: ResultRow[] = []
  const sqlPool = new pg.Pool({ connectionString: url, max: 2, options: '-c TimeZone=UTC' })
  try {
    for (const scenario of scenarios) {
      const base = { scenario: scenario.name, title: scenario.title, kind: scenario.kind, unsortedOf: scenario.unsortedOf }
      if (!scenario.paths.length) {
        for (const c of settings.concurrencies) rows.push({ ...base, concurrency: c, unsupported: 'no sample values (dataset too small)' })
        continue
      }
      const probe = await probeScenario(origin, TENANT, headers, scenario, sqlPool)
      console.log(`\n${scenario.name}: ${scenario.title}  e.g. ${scenario.paths[0]}\n  ${probe.note}`)
      for (const c of settings.concurrencies) {
        const runOurs = probe.unsupported ? undefined : () => runHttp(scenario, c, headers, server.child.pid)
        const { ours, sql, roundRatios } = await measureInRounds(settings.rounds, runOurs, () => runSql(scenario, c))
        const row: ResultRow = { ...base, concurrency: c, ours, sql, roundRatios, unsupported: probe.unsupported, mismatch: probe.mismatch }
        rows.push(row)
        const t = targetsOf(row, rows).map((x) => `${x.label} ${x.pass ? 'PASS' : 'MISS'}`).join('; ')
        console.log(`  c=${String(c).padEnd(2)} ours ${ours ? `${fmt(ours.reqPerSec, 0)} req/s p50 ${fmt(ours.p50)} p95 ${fmt(ours.p95)} ms` : 'not run'}` +
          ` | SQL ${fmt(sql.reqPerSec, 0)} req/s p50 ${fmt(sql.p50)} p95 ${fmt(sql.p95)} ms` +
          `${roundRatios.length > 1 ? ` | rounds ${roundRatios.map((r) => fmt(r * 100, 0)).join('/')}%` : ''}${t ? ` | ${t}` : ''}`)
      }
    }
  } finally {
    await sqlPool.end()
  }

  console.log(`\nResults (${settings.size.toLocaleString('en')} resources; tenant ${TENANT}: ${describeTenant(state)}; ratio = ours / hand-written SQL req/s):\n`)
  printResults(rows)
  if (indexing.length) {
    console.log()
    printIndexingCost(indexing)
  }
  console.log(`\nTargets: simple >= 50% of SQL and p95 < 50 ms at c=1; sorted >= 40% of the unsorted rate; chained, _has, _include p95 < 200 ms.`)
  const file = writeResults(startedAt, state, indexing, rows)
  console.log(`Written ${relative(ROOT, file)}`)
}

function printLoad(state: LoadState, loadedNow: boolean) {
  const total = Object.values(state.counts).reduce((n, t) => n + Object.values(t).reduce((a, b) => a + b, 0), 0)
  const verb = loadedNow ? 'Loaded' : `Reusing the dataset loaded ${state.loadedAt}:`
  console.log(`${verb} ${total.toLocaleString('en')} resources and ${state.indexRows.toLocaleString('en')} index rows in ${fmt(state.loadSeconds, 1)} s ` +
    `(${fmtRate(total, state.loadSeconds)} resources/s overall)`)
  console.log(`  phases: ${Object.entries(state.phases).map(([k, v]) => `${k} ${fmt(v, 1)} s`).join(', ')}`)
  for (const [tenant, counts] of Object.entries(state.counts)) console.log(`  ${tenant}: ${Object.entries(counts).map(([k, v]) => `${v.toLocaleString('en')} ${k}`).join(', ')}`)
}

const describeTenant = (state: LoadState) => Object.entries(state.counts[TENANT] ?? {}).map(([k, v]) => `${v.toLocaleString('en')} ${k}`).join(', ')

async function fetchToken(): Promise<string> {
  const res = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
  })
  const body = (await res.json()) as { access_token?: string }
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`)
  return body.access_token
}

/** Patient ids of the big tenant, and the 50th pages of the deep walks (followed over HTTP). */
async function readSamples(headers: Record<string, string>): Promise<Samples> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM resource WHERE tenant_id = $1 AND resource_type = 'Patient' AND NOT deleted ORDER BY md5(id) LIMIT 200`, [TENANT])
    const deepPages: Samples['deepPages'] = []
    const t0 = Date.now()
    for (const start of deepWalkStarts()) {
      const page = await walkToPage(origin, TENANT, headers, start.path, 50)
      if (!page) continue
      const at = await client.query<{ high: string; low: string }>(
        `SELECT high::text, low::text FROM search_date WHERE tenant_id = $1 AND resource_type = 'Observation' AND param = 'date' AND id = $2`, [TENANT, page.afterId])
      deepPages.push({ path: page.path, code: start.code, afterId: page.afterId, afterHigh: at.rows[0]?.high ?? '', afterLow: at.rows[0]?.low ?? '' })
    }
    console.log(`Deep paging: ${deepPages.length} walks of 49 pages followed in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    return { tenantId: TENANT, patientIds: rows.map((r) => r.id), deepPages }
  } finally {
    await client.end()
  }
}

const loadTimeout = () => (settings.warmupSeconds + settings.seconds / settings.rounds) * 1000 + 120_000

async function runHttp(scenario: Scenario, connections: number, headers: Record<string, string>, serverPid: number | undefined): Promise<LoadResult> {
  const plan: LoadPlan = {
    origin,
    method: 'GET',
    path: `/fhir/${TENANT}/`,
    ids: scenario.paths,
    headers,
    serverPid,
    database: settings.database,
    connections,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds / settings.rounds,
    keepLatencies: true,
  }
  const file = join(scratch, `${scenario.name}-${connections}-http.json`)
  writeFileSync(file, JSON.stringify(plan))
  return runJsonChild<LoadResult>(ROOT, 'bench/load.ts', [file], loadTimeout())
}

async function runSql(scenario: Scenario, connections: number): Promise<LoadResult> {
  const plan: SqlLoadPlan = {
    databaseUrl: url,
    database: settings.database,
    poolSize: settings.poolSize,
    connections,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds / settings.rounds,
    keepLatencies: true,
    entries: scenario.sql,
  }
  const file = join(scratch, `${scenario.name}-${connections}-sql.json`)
  writeFileSync(file, JSON.stringify(plan))
  return runJsonChild<LoadResult>(ROOT, 'bench/search/sql-load.ts', [file], loadTimeout())
}

function writeResults(startedAt: Date, state: LoadState, indexing: IndexingCost[], rows: ResultRow[]): string {
  const dir = join(ROOT, 'bench/results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `search-${startedAt.toISOString().replace(/:/g, '-').replace(/\..*/, '')}.json`)
  const targets = rows.map((r) => ({ scenario: r.scenario, concurrency: r.concurrency, unsupported: r.unsupported, targets: targetsOf(r, rows) }))
  writeFileSync(file, JSON.stringify({ startedAt, settings: { ...settings, adminUrl: undefined }, machine: { cpus: cpus().length, node: process.version }, load: state, indexing, rows, targets }, null, 2) + '\n')
  return file
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench:search: ${signal}; stopping children`)
    void stopAll().finally(() => process.exit(130))
  })
}
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(scratch, { recursive: true, force: true })
})

main()
  .then(() => stopAll())
  .catch(async (e: unknown) => {
    console.error(`bench:search failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    await stopAll()
    process.exit(1)
  })
