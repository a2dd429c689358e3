/** Printing the search bench: one line per scenario and concurrency, targets beside the figures. */
import type { LoadResult } from '../load.js'
import type { IndexingCost } from './indexing-cost.js'
import type { ScenarioKind } from './scenarios.js'

export interface ResultRow {
  scenario: string
  title: string
  kind: ScenarioKind
  unsortedOf?: string
  concurrency: number
  ours?: LoadResult
  sql?: LoadResult
  /** Why our server was not measured (e.g. the 400 a feature not built yet answers). */
  unsupported?: string
  /** Differences between our first page and the baseline's rows, when any. */
  mismatch?: string
  /** ours / SQL req/s of each round (rounds.ts). */
  roundRatios?: number[]
}

export interface TargetCheck {
  label: string
  pass: boolean
}

export function fmt(n: number | undefined, digits = 1): string {
  return n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-'
}

/** The targets of issue 3 item 7 that apply to a row. */
export function targetsOf(row: ResultRow, all: readonly ResultRow[]): TargetCheck[] {
  const { ours, sql, concurrency: c } = row
  if (!ours) return []
  const out: TargetCheck[] = []
  if (row.kind === 'simple') {
    if (sql) out.push({ label: '>=50% of SQL', pass: ours.reqPerSec >= 0.5 * sql.reqPerSec })
    if (c === 1) out.push({ label: 'p95<50ms', pass: ours.p95 < 50 })
  }
  if (row.kind === 'sorted') {
    const unsorted = all.find((r) => r.scenario === row.unsortedOf && r.concurrency === c)?.ours
    if (unsorted) out.push({ label: `>=40% of unsorted (${fmt((ours.reqPerSec / unsorted.reqPerSec) * 100, 0)}%)`, pass: ours.reqPerSec >= 0.4 * unsorted.reqPerSec })
  }
  if ((row.kind === 'chained' || row.kind === 'has' || row.kind === 'include') && c === 1) out.push({ label: 'p95<200ms', pass: ours.p95 < 200 })
  const failed = ours.non2xx + ours.errors + ours.timeouts
  if (failed > 0) out.push({ label: `${failed} failed requests ${JSON.stringify(ours.statusCodes)}`, pass: false })
  return out
}

export function printResults(rows: readonly ResultRow[]): void {
  const header = ['scenario', 'c', 'ours req/s', 'SQL req/s', 'ratio', 'ours p50/p95 ms', 'SQL p50/p95 ms', 'targets']
  const lines = rows.map((r) => {
    const lat = (x?: LoadResult) => (x ? `${fmt(x.p50, 1)} / ${fmt(x.p95, 1)}` : '-')
    const targets = r.unsupported
      ? `not supported yet: ${r.unsupported}`
      : targetsOf(r, rows).map((t) => `${t.label} ${t.pass ? 'PASS' : 'MISS'}`).join('; ') || '-'
    const ratio = r.ours && r.sql ? `${fmt((r.ours.reqPerSec / r.sql.reqPerSec) * 100, 0)}%` : '-'
    return [r.scenario, String(r.concurrency), fmt(r.ours?.reqPerSec, 0), fmt(r.sql?.reqPerSec, 0), ratio, lat(r.ours), lat(r.sql), targets + (r.mismatch ? `; ROWS DIFFER: ${r.mismatch}` : '')]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const show = (cells: string[]) => cells.map((c, i) => (i <= 1 || i === 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()
  console.log(show(header))
  console.log(widths.map((w) => '-'.repeat(Math.min(w, 60))).join('  '))
  for (const l of lines) console.log(show(l))
}

export function printIndexingCost(costs: readonly IndexingCost[]): void {
  console.log('Indexing cost of a create (Observation; repository write path, in process; target ratio <= 2x on the path POST takes):')
  for (const c of costs) {
    const path = c.path === 'grouped' ? 'as POST (grouped)' : 'alone (each its commit)'
    const verdict = c.path === 'grouped' ? (c.ratio <= 2 ? 'PASS' : 'MISS') : '(no target: POST never takes it)'
    console.log(
      `  c=${String(c.concurrency).padEnd(2)} ${path.padEnd(23)} with index rows ${fmt(c.withIndexMs, 3)} ms, without ${fmt(c.withoutIndexMs, 3)} ms per create ` +
        `(${c.creates} each, ${fmt(c.indexRows, 1)} index rows per Observation): ratio ${fmt(c.ratio, 2)}x ${verdict}`,
    )
  }
}
