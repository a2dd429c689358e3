import { randomBytes } from 'node:crypto'
/**
 * `npm run bench`: our server against a minimal Fastify + pg baseline, same PostgreSQL database,
 * same machine, load from separate processes (bench/load.ts). See bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { estimatedResources, removeBenchRows } from './bench-database.js'
import type { LoadPlan, LoadResult } from './load.js'
import { describeWal } from './wal-watch.js'
import type { MicroResult } from './micro.js'
import { fmt, indexingCostOf, printCpuTable, printIndexingCost, printMicro, printTable, TARGETS, type IndexingCostRow, type Row, type Scenario, type ServerName } from './report.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const TENANT = 'bench'
const CLIENT_SECRET = 'bench-secret-123456'
/** The tenant of the server without indexing (bench/server-unindexed.ts): same database, own rows. */
const UNINDEXED_TENANT = 'bench-unindexed'

const env = process.env
/**
 * BENCH_DATABASE: run in that existing database instead of a fresh `segimed_bench`, e.g. the search
 * bench's 1,000,000 resources (`segimed_bench_search`), where every index insert lands in large
 * indexes. Only the bench's own tenants and table are written, and they are removed before and after.
 */
const BENCH_DB = env.BENCH_DATABASE ?? 'segimed_bench'
const settings = {
  seconds: positive('BENCH_SECONDS', 10),
  warmupSeconds: positive('BENCH_WARMUP_SECONDS', 2),
  preload: positive('BENCH_PRELOAD', 2000),
  adminUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  ourPort: positive('BENCH_OUR_PORT', 18090),
  minimalPort: positive('BENCH_MINIMAL_PORT', 18091),
  unindexedPort: positive('BENCH_UNINDEXED_PORT', 18092),
  poolSize: positive('BENCH_DB_POOL_SIZE', 10),
  scenarios: scenarioList(env.BENCH_SCENARIOS ?? 'create,read,update'),
  concurrencies: (env.BENCH_CONCURRENCY ?? '1,16').split(',').map(Number),
  /** Runs per scenario and server; the best is reported (noise on a shared machine only slows). */
  repeat: positive('BENCH_REPEAT', 1),
  /** Extra node flags for our two servers (e.g. --max-semi-space-size=32). */
  nodeArgs: (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  /** Directory for V8 CPU profiles of both servers (node --cpu-prof), e.g. bench/results/prof. */
  cpuProfDir: env.BENCH_CPU_PROF ? resolve(env.BENCH_CPU_PROF) : undefined,
  /** Alternating runs per server for the indexing cost, and their length (warm-up, measured s). */
  indexingRounds: positive('BENCH_INDEXING_ROUNDS', 6),
  indexingTiming: { warmupSeconds: 1, seconds: positive('BENCH_INDEXING_SECONDS', 4) },
  /** Creates also run on our server without indexing: what indexing costs a create (issue 3). */
  indexingCost: env.BENCH_INDEXING_COST !== '0' && scenarioList(env.BENCH_SCENARIOS ?? 'create,read,update').includes('create'),
}

// Every child we start, so that any exit path can stop them.
const children = new Set<ChildProcess>()
/** Set once a signal or the watchdog is stopping everything, so the failures that follow stay quiet. */
let isStopping = false
const scratch = mkdtempSync(join(tmpdir(), 'segimed-bench-'))

function positive(name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return n
}

function scenarioList(raw: string): Scenario[] {
  const known: Scenario[] = ['create', 'read', 'update']
  const list = raw.split(',').map((x) => x.trim())
  const unknown = list.filter((x) => !known.includes(x as Scenario))
  if (unknown.length > 0) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')}; use ${known.join(',')}`)
  return list as Scenario[]
}

function benchDatabaseUrl(): string {
  const url = new URL(settings.adminUrl)
  url.pathname = `/${BENCH_DB}`
  return url.toString()
}

async function recreateDatabase(): Promise<void> {
  if (env.BENCH_DATABASE) return removeBenchRows(benchDatabaseUrl(), [TENANT, UNINDEXED_TENANT])
  const client = new pg.Client({ connectionString: settings.adminUrl, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`)
    await client.query(`CREATE DATABASE ${BENCH_DB}`)
  } finally {
    await client.end()
  }
}

/**
 * Fresh statistics, as autovacuum keeps them in steady state. Without them the planner answers a
 * primary-key lookup on `resource` through the (tenant_id, resource_type, last_updated) index and
 * filters every row of the type (see bench/README.md), which no long-running server sees.
 */
async function analyze(): Promise<void> {
  const client = new pg.Client({ connectionString: benchDatabaseUrl() })
  await client.connect()
  try {
    await client.query('VACUUM ANALYZE')
  } finally {
    await client.end()
  }
}

async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: benchDatabaseUrl() })
  await client.connect()
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]?.server_version ?? '?'
  } finally {
    await client.end()
  }
}

/** Spawns `node --import tsx <file>`; keeps the tail of its output for error messages. */
function spawnTs(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}) {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { ...env, NODE_ENV: 'production', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output.stderr = (output.stderr + d.toString()).slice(-8000)))
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code, signal) => {
      children.delete(child)
      done(signal ? null : code)
    }),
  )
  return { child, output, exited }
}

/** Runs a child to completion within `timeoutMs` and parses the JSON line it prints. */
async function runJsonChild<T>(file: string, args: string[], timeoutMs: number): Promise<T> {
  const { child, output, exited } = spawnTs(file, args)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${file} failed (exit ${code ?? 'by signal/timeout'}):\n${output.stderr}`)
  const line = output.stdout.trim().split('\n').pop() ?? ''
  return JSON.parse(line) as T
}

async function startServer(name: ServerName, file: string, port: number, serverEnv: NodeJS.ProcessEnv, nodeArgs: string[] = []) {
  const server = spawnTs(file, [], { env: { PORT: String(port), LOG_LEVEL: 'warn', ...serverEnv }, nodeArgs })
  const origin = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  let exitCode: number | null | undefined
  void server.exited.then((code) => (exitCode = code))
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${name} server exited (${exitCode}) during start:\n${server.output.stderr}`)
    try {
      const res = await fetch(`${origin}/healthz`)
      if (res.ok) return { ...server, origin }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${name} server did not answer /healthz within 60 s:\n${server.output.stderr}`)
}

/** SIGTERM (lets --cpu-prof write its profile), then SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)))
  rmSync(scratch, { recursive: true, force: true })
}

async function fetchToken(origin: string, clientId: string): Promise<string> {
  const res = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: CLIENT_SECRET }),
  })
  const body = (await res.json()) as { access_token?: string }
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`)
  return body.access_token
}

/** Creates `count` resources over HTTP (8 at a time) and returns their ids. */
async function preload(url: string, headers: Record<string, string>, body: string, count: number): Promise<string[]> {
  const ids: string[] = []
  let started = 0
  const worker = async () => {
    while (started < count) {
      started++
      const res = await fetch(url, { method: 'POST', headers, body })
      const text = await res.text()
      if (res.status !== 201) throw new Error(`preload POST ${url} answered ${res.status}: ${text.slice(0, 500)}`)
      ids.push((JSON.parse(text) as { id: string }).id)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return ids
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const runs = (settings.scenarios.length * 2 + (settings.indexingCost ? 1 : 0)) * settings.concurrencies.length * settings.repeat
  console.log(
    `Segimed FHIR bench: ${settings.scenarios.join('/')} at c=${settings.concurrencies.join(',')}, ` +
      `${settings.warmupSeconds} s warm-up + ${settings.seconds} s per run, ${runs} runs, ${cpus().length} CPUs, node ${process.version}`,
  )
  const body = JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'bench/observation.json'), 'utf8')) as object)

  const micro = await runJsonChild<MicroResult>('bench/micro.ts', [], 120_000)
  printMicro(micro)

  await recreateDatabase()
  const databaseUrl = benchDatabaseUrl()
  const pgVersion = await postgresVersion()
  const existing = env.BENCH_DATABASE ? `, existing: ~${(await estimatedResources(databaseUrl)).toLocaleString('en')} resources` : ''
  console.log(`\nDatabase ${BENCH_DB} ${existing ? 'in use' : 'recreated'} (PostgreSQL ${pgVersion}${existing}); starting servers...`)
  const ourBase = `http://127.0.0.1:${settings.ourPort}`
  const profArgs = (name: ServerName) => [
    ...settings.nodeArgs,
    ...(settings.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(settings.cpuProfDir, name)}`] : []),
  ]
  const ourEnv = (port: number, tenant: string) => ({
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    BASE_URL: `http://127.0.0.1:${port}`,
    DB_POOL_SIZE: String(settings.poolSize),
    BOOTSTRAP_TENANT: tenant,
    BOOTSTRAP_CLIENT_ID: tenant,
    BOOTSTRAP_CLIENT_SECRET: CLIENT_SECRET,
    // Production mode refuses to start without a real signing secret; a fresh one per run.
    AUTH_SECRET: randomBytes(32).toString('base64url'),
  })
  const [ours, minimal] = await Promise.all([
    startServer('ours', 'src/main.ts', settings.ourPort, ourEnv(settings.ourPort, TENANT), profArgs('ours')),
    startServer(
      'minimal',
      'bench/minimal-server.ts',
      settings.minimalPort,
      { DATABASE_URL: databaseUrl, DB_POOL_SIZE: String(settings.poolSize) },
      profArgs('minimal'),
    ),
  ])

  // Started after ours has migrated the database: one migrator at a time.
  const unindexed = settings.indexingCost
    ? await startServer('unindexed', 'bench/server-unindexed.ts', settings.unindexedPort, ourEnv(settings.unindexedPort, UNINDEXED_TENANT), profArgs('unindexed'))
    : undefined
  const fhirHeaders = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' })
  const servers: Partial<Record<ServerName, { origin: string; prefix: string; headers: Record<string, string>; ids: string[]; pid?: number }>> = {
    ours: { origin: ours.origin, prefix: `/fhir/${TENANT}/Observation`, headers: fhirHeaders(await fetchToken(ours.origin, TENANT)), ids: [], pid: ours.child.pid },
    minimal: { origin: minimal.origin, prefix: '/Observation', headers: { 'content-type': 'application/json', accept: 'application/json' }, ids: [], pid: minimal.child.pid },
  }
  if (unindexed) {
    const headers = fhirHeaders(await fetchToken(unindexed.origin, UNINDEXED_TENANT))
    servers.unindexed = { origin: unindexed.origin, prefix: `/fhir/${UNINDEXED_TENANT}/Observation`, headers, ids: [], pid: unindexed.child.pid }
  }
  for (const name of ['ours', 'minimal', 'unindexed'] as const) {
    const s = servers[name]
    if (!s) continue
    const t0 = Date.now()
    s.ids = await preload(`${s.origin}${s.prefix}`, s.headers, body, settings.preload)
    console.log(`Preloaded ${s.ids.length} Observations into ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }

  const rows: Row[] = []
  const loadTimeout = (settings.warmupSeconds + settings.seconds) * 1000 + 60_000
  const runLoad = async (name: ServerName, scenario: Scenario, concurrency: number, attempt: number | string, timing = { warmupSeconds: settings.warmupSeconds, seconds: settings.seconds }): Promise<LoadResult> => {
    const s = servers[name]!
    const plan: LoadPlan = {
      origin: s.origin,
      method: scenario === 'create' ? 'POST' : scenario === 'read' ? 'GET' : 'PUT',
      path: scenario === 'create' ? s.prefix : `${s.prefix}/`,
      ids: scenario === 'create' ? undefined : s.ids,
      body: scenario === 'read' ? undefined : (JSON.parse(body) as Record<string, unknown>),
      headers: s.headers,
      serverPid: s.pid,
      database: BENCH_DB,
      watchUrl: settings.adminUrl,
      connections: concurrency,
      ...timing,
    }
    const planFile = join(scratch, `${scenario}-${concurrency}-${name}-${attempt}.json`)
    writeFileSync(planFile, JSON.stringify(plan))
    const r = await runJsonChild<LoadResult>('bench/load.ts', [planFile], loadTimeout)
    console.log(
      `  ${scenario.padEnd(6)} c=${String(concurrency).padEnd(2)} ${name.padEnd(9)} ${fmt(r.reqPerSec, 0).padStart(6)} req/s  ` +
        `p50 ${fmt(r.p50, 2)} p95 ${fmt(r.p95, 2)} p99 ${fmt(r.p99, 2)} ms  non-2xx ${r.non2xx} errors ${r.errors} timeouts ${r.timeouts}  ` +
        `cpu/req server ${fmt(r.serverCpuMsPerRequest, 3)} pg ${fmt(r.postgresCpuMsPerRequest, 3)} ms, other load ${fmt(r.cpu.otherMsPerSec / 10, 0)}%` +
        (r.wal ? `  ${describeWal(r.wal, r.requests)}` : '') +
        (r.non2xx > 0 ? `  statuses ${JSON.stringify(r.statusCodes)}` : ''),
    )
    return r
  }
  for (const scenario of settings.scenarios) {
    for (const concurrency of settings.concurrencies) {
      await analyze()
      const all: Row['runs'] = { ours: [], minimal: [] }
      const names = ['ours', 'minimal'] as const
      for (let attempt = 0; attempt < settings.repeat; attempt++) {
        // Alternate who goes first, so that drift on the machine does not favour one server.
        const order = attempt % 2 === 0 ? names : [...names].reverse()
        for (const name of order) all[name].push(await runLoad(name, scenario, concurrency, attempt))
      }
      // Other work on the machine only ever slows a run down: keep each server's best.
      const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a))
      const row = { scenario, concurrency, ours: best(all.ours), minimal: best(all.minimal), runs: all }
      rows.push({ ...row, ratio: row.ours.reqPerSec / row.minimal.reqPerSec })
    }
  }

  // Indexing cost: ours and unindexed in short alternating runs, totalled. One long run per server
  // compared two stretches of time on a machine whose speed drifts: back-to-back 10 s runs of ONE
  // server here differed by up to 40% (c=1 creates: 648 and 368 req/s), far more than the effect
  // measured. Alternation spreads that drift over both servers alike.
  const indexing: IndexingCostRow[] = []
  if (servers.unindexed) {
    for (const concurrency of settings.concurrencies) {
      await analyze()
      const runs: IndexingCostRow['runs'] = { ours: [], unindexed: [] }
      // One unmeasured run each first: the unindexed server has served only the preload by now, and
      // its first measured run came out ~20% below its later ones (V8 still compiling its hot
      // paths), which flattered the first round's ratio.
      for (const name of ['unindexed', 'ours'] as const) await runLoad(name, 'create', concurrency, 'ix-warm-up', settings.indexingTiming)
      for (let round = 0; round < settings.indexingRounds; round++) {
        const order: ('ours' | 'unindexed')[] = round % 2 === 0 ? ['ours', 'unindexed'] : ['unindexed', 'ours']
        for (const name of order) runs[name].push(await runLoad(name, 'create', concurrency, `ix${round}`, settings.indexingTiming))
      }
      indexing.push({ concurrency, runs })
    }
  }

  const best = settings.repeat > 1 ? `best of ${settings.repeat} runs per server; ` : ''
  console.log(`\nResults (${best}ratio = ours / minimal req/s; latency percentiles over every measured request):\n`)
  printTable(rows)
  console.log()
  printCpuTable(rows)
  if (indexing.length) {
    console.log()
    printIndexingCost(indexing, settings.indexingTiming.seconds)
  }
  console.log()
  printMicro(micro)

  const isClean = (x: LoadResult) => x.non2xx + x.errors + x.timeouts === 0
  const failures = [
    ...rows.filter((r) => ![...r.runs.ours, ...r.runs.minimal].every(isClean)),
    ...indexing.filter((r) => ![...r.runs.ours, ...r.runs.unindexed].every(isClean)).map((r) => ({ scenario: 'create (indexing cost)', concurrency: r.concurrency })),
  ]
  const resultsDir = join(ROOT, 'bench/results')
  mkdirSync(resultsDir, { recursive: true })
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\..*/, '')
  const file = join(resultsDir, `core-${stamp}.json`)
  const targets = rows.flatMap((r) =>
    TARGETS.filter((t) => t.scenario === r.scenario && (t.concurrency ?? r.concurrency) === r.concurrency).map((t) => ({
      scenario: r.scenario,
      concurrency: r.concurrency,
      target: t.label,
      pass: t.check(r.ours, r.minimal),
    })),
  )
  writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        command: [
          ...Object.entries(env)
            .filter(([k]) => k.startsWith('BENCH_'))
            .map(([k, v]) => `${k}=${v ?? ''}`),
          'npm run bench',
        ].join(' '),
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, postgres: pgVersion },
        settings: { ...settings, adminUrl: undefined },
        bodyBytes: micro.bodyBytes,
        micro,
        rows,
        indexing: indexing.map((r) => ({ ...r, ...indexingCostOf(r) })),
        targets,
      },
      null,
      2,
    ) + '\n',
  )
  console.log(`\nWritten ${relative(ROOT, file)}`)
  if (env.BENCH_DATABASE) {
    await stopAll()
    await removeBenchRows(benchDatabaseUrl(), [TENANT, UNINDEXED_TENANT])
  }
  if (failures.length > 0) {
    throw new Error(`non-2xx responses or errors in: ${failures.map((r) => `${r.scenario} c=${r.concurrency}`).join(', ')}`)
  }
}

// Hard bound on the whole run: generous for the defaults, scaled with BENCH_SECONDS.
const budgetMs = env.BENCH_TIMEOUT_SECONDS
  ? positive('BENCH_TIMEOUT_SECONDS', 1) * 1000
  : 180_000 +
    settings.scenarios.length * 2 * settings.concurrencies.length * settings.repeat * (settings.warmupSeconds + settings.seconds + 10) * 1000 +
    (settings.indexingCost ? 2 * (settings.indexingRounds + 1) * settings.concurrencies.length * (settings.indexingTiming.warmupSeconds + settings.indexingTiming.seconds + 10) * 1000 : 0)
const watchdog = setTimeout(() => {
  console.error(`bench: exceeded ${Math.round(budgetMs / 1000)} s; stopping`)
  isStopping = true
  void stopAll().finally(() => process.exit(2))
}, budgetMs)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}; stopping children`)
    isStopping = true
    void stopAll().finally(() => process.exit(130))
  })
}
// Last resort if something calls process.exit before stopAll ran.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})

main()
  .then(async () => {
    clearTimeout(watchdog)
    await stopAll()
    if (settings.cpuProfDir) {
      console.log(`CPU profiles in ${relative(ROOT, settings.cpuProfDir)}/{ours,minimal,unindexed}/ (summarise with bench/profile-summary.ts)`)
    }
  })
  .catch(async (e: unknown) => {
    if (isStopping) return
    clearTimeout(watchdog)
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`)
    await stopAll()
    process.exit(1)
  })
