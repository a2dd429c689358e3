/**
 * One scenario at one concurrency, measured in alternating rounds: ours, SQL, SQL, ours, ours,
 * SQL... On a small VM the machine's speed drifts over tens of seconds (the SQL baseline alone read
 * 509 to 745 req/s for the same queries in one evening), so two back-to-back 5-second runs can
 * land on different sides of a drift and the ratio then measures the drift. Rounds put both sides
 * in every stretch; the merged figures count every request of every round (percentiles over all
 * response times), and the per-round ratios show the spread.
 */
import type { CpuSplit } from '../cpu.js'
import type { LoadResult } from '../load.js'
import { percentile } from '../percentile.js'

export interface RoundsResult {
  ours?: LoadResult
  sql: LoadResult
  /** ours / SQL req/s of each round (empty without ours). */
  roundRatios: number[]
}

/** Runs `rounds` rounds, each side once per round, the order alternating so neither always goes first. */
export async function measureInRounds(
  rounds: number,
  runOurs: (() => Promise<LoadResult>) | undefined,
  runSql: () => Promise<LoadResult>,
): Promise<RoundsResult> {
  const ours: LoadResult[] = []
  const sql: LoadResult[] = []
  for (let r = 0; r < rounds; r++) {
    const oursFirst = r % 2 === 0
    if (oursFirst && runOurs) ours.push(await runOurs())
    sql.push(await runSql())
    if (!oursFirst && runOurs) ours.push(await runOurs())
  }
  return {
    ours: runOurs ? mergeRuns(ours) : undefined,
    sql: mergeRuns(sql),
    roundRatios: ours.map((o, i) => o.reqPerSec / sql[i]!.reqPerSec),
  }
}

/** Several runs of one side as one: sums, rates over the summed time, percentiles over every response time. */
export function mergeRuns(runs: readonly LoadResult[]): LoadResult {
  if (runs.length === 0) throw new Error('mergeRuns: no runs')
  const requests = sum(runs, (r) => r.requests)
  const seconds = sum(runs, (r) => r.seconds)
  const all = Float64Array.from(runs.flatMap((r) => r.latencies ?? [])).sort()
  if (all.length !== requests) throw new Error(`mergeRuns: ${all.length} response times for ${requests} requests (run the load with keepLatencies)`)
  const perSec = (pick: (c: CpuSplit) => number) => sum(runs, (r) => pick(r.cpu) * r.seconds) / seconds
  const cpu: CpuSplit = {
    serverMsPerSec: perSec((c) => c.serverMsPerSec),
    postgresMsPerSec: perSec((c) => c.postgresMsPerSec),
    loadGeneratorMsPerSec: perSec((c) => c.loadGeneratorMsPerSec),
    otherMsPerSec: perSec((c) => c.otherMsPerSec),
  }
  const statusCodes: Record<string, number> = {}
  for (const r of runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n
  return {
    requests,
    seconds,
    reqPerSec: requests / seconds,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    p99: percentile(all, 99),
    max: percentile(all, 100),
    non2xx: sum(runs, (r) => r.non2xx),
    errors: sum(runs, (r) => r.errors),
    timeouts: sum(runs, (r) => r.timeouts),
    statusCodes,
    cpu,
    serverCpuMsPerRequest: (cpu.serverMsPerSec * seconds) / Math.max(1, requests),
    postgresCpuMsPerRequest: (cpu.postgresMsPerSec * seconds) / Math.max(1, requests),
  }
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((n, item) => n + pick(item), 0)
}
