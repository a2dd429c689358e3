/** Printing and checking bench results: the main table, the CPU table, microbenchmarks, targets. */
import type { LoadResult } from './load.js'
import type { MicroResult } from './micro.js'
import { sampleCount } from './wal-watch.js'

export type Scenario = 'create' | 'read' | 'update'
/** `unindexed`: our server without search indexing (server-unindexed.ts), creates only. */
export type ServerName = 'ours' | 'minimal' | 'unindexed'
export interface Target {
  scenario: Scenario
  concurrency?: number
  label: string
  check: (ours: LoadResult, minimal: LoadResult) => boolean
}
export interface Row {
  scenario: Scenario
  concurrency: number
  /** The best of `runs` (highest req/s) of each server. */
  ours: LoadResult
  minimal: LoadResult
  ratio: number
  runs: Record<'ours' | 'minimal', LoadResult[]>
}

/** The targets of issue 2, item 12. */
export const TARGETS: Target[] = [
  { scenario: 'create', label: 'ratio >= 40%', check: (o, m) => o.reqPerSec / m.reqPerSec >= 0.4 },
  { scenario: 'read', label: 'ratio >= 70%', check: (o, m) => o.reqPerSec / m.reqPerSec >= 0.7 },
  { scenario: 'read', concurrency: 16, label: 'ours p99 <= 10 ms', check: (o) => o.p99 <= 10 },
]

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-'
}

export function printTable(rows: Row[]): void {
  const header = ['scenario', 'c', 'ours req/s', 'minimal req/s', 'ratio', 'target', 'ours p50/p95/p99 ms', 'minimal p50/p95/p99 ms', 'non-2xx o/m']
  const lines = rows.map((r) => {
    const targets = TARGETS.filter((t) => t.scenario === r.scenario && (t.concurrency ?? r.concurrency) === r.concurrency)
    const lat = (x: LoadResult) => `${fmt(x.p50, 2)} / ${fmt(x.p95, 2)} / ${fmt(x.p99, 2)}`
    // Counted over every run, not only the best one.
    const bad = (runs: LoadResult[]) => runs.reduce((n, x) => n + x.non2xx + x.errors + x.timeouts, 0)
    // A run with failed requests (or a baseline that served nothing) measures nothing: no verdict.
    const valid = bad(r.runs.ours) + bad(r.runs.minimal) === 0 && r.minimal.reqPerSec > 0
    const verdict = (t: Target) => (!valid ? 'INVALID (failed requests)' : t.check(r.ours, r.minimal) ? 'PASS' : 'MISS')
    const target = targets.map((t) => `${t.label} ${verdict(t)}`).join('; ') || '-'
    return [
      r.scenario,
      String(r.concurrency),
      fmt(r.ours.reqPerSec, 0),
      fmt(r.minimal.reqPerSec, 0),
      `${fmt(r.ratio * 100, 0)}%`,
      target,
      lat(r.ours),
      lat(r.minimal),
      `${bad(r.runs.ours)}/${bad(r.runs.minimal)}`,
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const show = (cells: string[]) => cells.map((c, i) => (i <= 1 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  console.log(show(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const l of lines) console.log(show(l))
}

export function printCpuTable(rows: Row[]): void {
  console.log('CPU per request, ms (server process / PostgreSQL backends of the bench database); "other" = CPU used by')
  console.log('anything else on the machine during the run, in % of one core (high = noisy figures):\n')
  console.log('scenario  c   ours server / pg    minimal server / pg   other o/m')
  for (const r of rows) {
    const cell = (x: LoadResult) => `${fmt(x.serverCpuMsPerRequest, 3).padStart(6)} / ${fmt(x.postgresCpuMsPerRequest, 3).padEnd(6)}`
    const other = `${fmt(r.ours.cpu.otherMsPerSec / 10, 0)}% / ${fmt(r.minimal.cpu.otherMsPerSec / 10, 0)}%`
    console.log(`${r.scenario.padEnd(8)}  ${String(r.concurrency).padEnd(2)}  ${cell(r.ours)}     ${cell(r.minimal)}       ${other}`)
  }
}

export function printMicro(m: MicroResult): void {
  const f = (x: { meanUs: number; medianUs: number; iterations: number }) =>
    `mean ${fmt(x.meanUs / 1000, 3)} ms, median ${fmt(x.medianUs / 1000, 3)} ms (${x.iterations} runs)`
  console.log(`Microbenchmarks (${m.bodyBytes}-byte Observation; own child process, run before the servers start):`)
  console.log(`  loadFhirDefinitions (once, at start)   ${fmt(m.loadDefinitionsMs, 0)} ms`)
  console.log(`  validateResource (id+meta stamped)     ${f(m.validateResource)}; ${m.validateIssues} issues`)
  console.log(`  JSON.parse + JSON.stringify of body    ${f(m.jsonParseStringify)}`)
  console.log(`  jose jwtVerify ES256 (per request)     ${f(m.jwtVerifyEs256)}`)
}

/** The indexing-cost runs at one concurrency: creates on ours and on ours without index rows, alternating. */
export interface IndexingCostRow {
  concurrency: number
  runs: { ours: LoadResult[]; unindexed: LoadResult[] }
}

/** Requests and seconds summed over a server's runs: time per create = seconds / requests. */
const msPerCreate = (runs: readonly LoadResult[]) => (1000 * runs.reduce((t, r) => t + r.seconds, 0)) / runs.reduce((n, r) => n + r.requests, 0)
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
/** WAL bytes per create over a server's runs, when they were watched (wal-watch.ts). */
const walPerCreate = (runs: readonly LoadResult[]) =>
  runs.every((r) => r.wal) ? runs.reduce((t, r) => t + r.wal!.walBytes, 0) / runs.reduce((n, r) => n + r.requests, 0) : undefined
/** The share of backend samples waiting for the WAL flush over a server's runs. */
const walWaitShare = (runs: readonly LoadResult[]) => {
  const all = runs.reduce((t, r) => t + (r.wal ? sampleCount(r.wal) : 0), 0)
  return all ? runs.reduce((t, r) => t + (r.wal?.samples.wal ?? 0), 0) / all : undefined
}

export function indexingCostOf(r: IndexingCostRow) {
  const withMs = msPerCreate(r.runs.ours)
  const withoutMs = msPerCreate(r.runs.unindexed)
  // Each round's pair (run back to back): their spread shows how far one pair could be trusted alone.
  const pairs = r.runs.ours.map((o, i) => r.runs.unindexed[i]!.reqPerSec / o.reqPerSec)
  return {
    withMs,
    withoutMs,
    ratio: withMs / withoutMs,
    pairRatios: pairs,
    cpu: {
      with: { server: mean(r.runs.ours.map((x) => x.serverCpuMsPerRequest)), pg: mean(r.runs.ours.map((x) => x.postgresCpuMsPerRequest)) },
      without: { server: mean(r.runs.unindexed.map((x) => x.serverCpuMsPerRequest)), pg: mean(r.runs.unindexed.map((x) => x.postgresCpuMsPerRequest)) },
    },
    wal: { with: walPerCreate(r.runs.ours), without: walPerCreate(r.runs.unindexed) },
    walWait: { with: walWaitShare(r.runs.ours), without: walWaitShare(r.runs.unindexed) },
  }
}

/**
 * What indexing costs a create (issue 3 item 7: "indexing at most doubles the cost of a create"):
 * the same HTTP create on our server with and without index rows, cost as time per create, over
 * alternating runs of both (bench/run.ts).
 */
export function printIndexingCost(rows: readonly IndexingCostRow[], seconds: number): void {
  const rounds = rows[0]?.runs.ours.length ?? 0
  console.log(`Indexing cost of a create over HTTP (ms per create = seconds / creates over ${rounds} alternating ${seconds} s runs per server;`)
  console.log('ours vs ours without index rows; target <= 2x; "pairs" = the ratio of each round\'s two back-to-back runs):')
  for (const r of rows) {
    const c = indexingCostOf(r)
    const clean = [...r.runs.ours, ...r.runs.unindexed].every((x) => x.non2xx + x.errors + x.timeouts === 0)
    const verdict = !clean ? 'INVALID (failed requests)' : c.ratio <= 2 ? 'PASS' : 'MISS'
    console.log(
      `  c=${String(r.concurrency).padEnd(2)} with index rows ${fmt(c.withMs, 3)} ms, without ${fmt(c.withoutMs, 3)} ms: ratio ${fmt(c.ratio, 2)}x ${verdict}` +
        `  pairs ${c.pairRatios.map((x) => fmt(x, 2)).join(' ')}` +
        `  cpu/create server+pg ${fmt(c.cpu.with.server, 3)}+${fmt(c.cpu.with.pg, 3)} ms with, ${fmt(c.cpu.without.server, 3)}+${fmt(c.cpu.without.pg, 3)} without`,
    )
    if (c.wal.with !== undefined && c.wal.without !== undefined) {
      const share = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(100 * x)}%`)
      console.log(
        `       WAL per create ${fmt(c.wal.with / 1000, 1)} kB with, ${fmt(c.wal.without / 1000, 1)} kB without (${fmt(c.wal.with / c.wal.without, 2)}x);` +
          ` backend samples waiting for the WAL flush ${share(c.walWait.with)} with, ${share(c.walWait.without)} without`,
      )
    }
  }
}
