/**
 * Load runner, one scenario per process: bench/run.ts spawns it so that the load never shares
 * an event loop with a server under test. Usage: `node --import tsx bench/load.ts <plan.json>`.
 * Prints one JSON line (a LoadResult) on stdout; exits non-zero on failure.
 */
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { snapshotCpu, splitCpu, type CpuSplit } from './cpu.js'
import { percentile } from './percentile.js'
import { watchWal, type WalWatch } from './wal-watch.js'

export interface LoadPlan {
  /** Origin, e.g. http://127.0.0.1:8090 */
  origin: string
  method: 'GET' | 'POST' | 'PUT'
  /** Request path, or the prefix an id is appended to when `ids` is given. */
  path: string
  /** Round-robin ids appended to `path` (read/update). */
  ids?: string[]
  /** Body JSON; on PUT the id of each request is set into it. */
  body?: Record<string, unknown>
  headers: Record<string, string>
  /** Process id of the server under test, for its CPU time. */
  serverPid?: number
  /** Database name whose PostgreSQL backends are counted as the server's database CPU. */
  database: string
  /**
   * When given, the run also reports its WAL and what that database's backends waited on (wal-watch.ts),
   * read through this URL of another database of the same server: a watcher connected to the bench
   * database would count its own backend's CPU as the server's.
   */
  watchUrl?: string
  connections: number
  warmupSeconds: number
  seconds: number
  /** Also print every response time (LoadResult.latencies), so runs of several processes merge exactly. */
  keepLatencies?: boolean
}

export interface LoadResult {
  requests: number
  seconds: number
  reqPerSec: number
  p50: number
  p95: number
  p99: number
  max: number
  non2xx: number
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  cpu: CpuSplit
  /** Server CPU milliseconds per request (all its threads, incl. GC). */
  serverCpuMsPerRequest: number
  /** PostgreSQL CPU milliseconds per request (backends of the bench database). */
  postgresCpuMsPerRequest: number
  /** With `watchUrl`: the run's WAL and what the database's backends were waiting on. */
  wal?: WalWatch
  /** With `keepLatencies`: every response time in ms, ascending. */
  latencies?: number[]
}

function requestsOf(plan: LoadPlan): autocannon.Request[] {
  const ids = plan.ids
  if (!ids || ids.length === 0) {
    return [{ method: plan.method, path: plan.path, body: plan.body ? JSON.stringify(plan.body) : undefined }]
  }
  // One counter for all connections: consecutive requests hit consecutive ids, so concurrent
  // updates never touch the same resource while ids.length > connections.
  const bodies = plan.method === 'PUT' ? ids.map((id) => JSON.stringify({ ...plan.body, id })) : undefined
  let next = 0
  return [
    {
      method: plan.method,
      setupRequest: (request) => {
        const i = next++ % ids.length
        return { ...request, path: plan.path + ids[i], body: bodies?.[i] }
      },
    },
  ]
}

function runOnce(plan: LoadPlan, seconds: number, record: (status: number, ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: plan.origin,
        connections: plan.connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        headers: plan.headers,
        requests: requestsOf(plan),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
    instance.on('response', (_client, statusCode, _bytes, responseTime) => record(statusCode, responseTime))
  })
}

async function main() {
  const planFile = process.argv[2]
  if (!planFile) throw new Error('usage: load.ts <plan.json>')
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as LoadPlan
  if (plan.warmupSeconds > 0) await runOnce(plan, plan.warmupSeconds, () => {})

  let latencies = new Float64Array(1 << 16)
  let count = 0
  const statusCodes: Record<string, number> = {}
  const walWatch = plan.watchUrl ? await watchWal(plan.watchUrl, plan.database) : undefined
  const cpuBefore = snapshotCpu(plan.serverPid, plan.database)
  const started = process.hrtime.bigint()
  const result = await runOnce(plan, plan.seconds, (status, ms) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2)
      grown.set(latencies)
      latencies = grown
    }
    latencies[count++] = ms
    statusCodes[status] = (statusCodes[status] ?? 0) + 1
  })
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const cpu = splitCpu(cpuBefore, snapshotCpu(plan.serverPid, plan.database), elapsed)
  const wal = await walWatch?.stop()
  const sorted = latencies.subarray(0, count).sort()
  const out: LoadResult = {
    requests: count,
    seconds: elapsed,
    reqPerSec: count / elapsed,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    cpu,
    serverCpuMsPerRequest: (cpu.serverMsPerSec * elapsed) / count,
    postgresCpuMsPerRequest: (cpu.postgresMsPerSec * elapsed) / count,
    wal,
    latencies: plan.keepLatencies ? Array.from(sorted, (ms) => Math.round(ms * 1000) / 1000) : undefined,
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e)
  process.exit(1)
})
