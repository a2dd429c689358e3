/**
 * The hand-written SQL baseline, one scenario per process (like ../load.ts for HTTP): `connections`
 * workers each take the next entry round-robin, run its queries concurrently on a `pg` pool and
 * read every row (content included), for a warm-up and then the measured seconds.
 * Usage: `node --import tsx bench/search/sql-load.ts <plan.json>`; prints one JSON line (a LoadResult).
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { snapshotCpu, splitCpu } from '../cpu.js'
import type { LoadResult } from '../load.js'
import { percentile } from '../percentile.js'
import type { SqlQuery } from './scenarios.js'

export interface SqlLoadPlan {
  databaseUrl: string
  database: string
  poolSize: number
  connections: number
  warmupSeconds: number
  seconds: number
  entries: SqlQuery[][]
  /** As LoadPlan.keepLatencies. */
  keepLatencies?: boolean
}

async function runFor(pool: pg.Pool, plan: SqlLoadPlan, seconds: number, record: (ms: number, ok: boolean) => void): Promise<void> {
  const deadline = performance.now() + seconds * 1000
  let next = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      const entry = plan.entries[next++ % plan.entries.length]!
      const t0 = performance.now()
      try {
        const results = await Promise.all(entry.map((q) => pool.query(q.text, q.values)))
        // Touch the content as a server would before sending it.
        let bytes = 0
        for (const r of results) for (const row of r.rows as { content?: string }[]) bytes += row.content?.length ?? 0
        record(performance.now() - t0, bytes >= 0)
      } catch (e) {
        record(performance.now() - t0, false)
        console.error(e instanceof Error ? e.message : e)
      }
    }
  }
  await Promise.all(Array.from({ length: plan.connections }, worker))
}

async function main() {
  const planFile = process.argv[2]
  if (!planFile) throw new Error('usage: sql-load.ts <plan.json>')
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as SqlLoadPlan
  // UTC like the server's date parameters (a date without a zone is UTC there).
  const pool = new pg.Pool({ connectionString: plan.databaseUrl, max: plan.poolSize, options: '-c TimeZone=UTC' })
  try {
    if (plan.warmupSeconds > 0) await runFor(pool, plan, plan.warmupSeconds, () => {})
    const latencies: number[] = []
    let errors = 0
    const before = snapshotCpu(undefined, plan.database)
    const started = performance.now()
    await runFor(pool, plan, plan.seconds, (ms, ok) => {
      latencies.push(ms)
      if (!ok) errors++
    })
    const elapsed = (performance.now() - started) / 1000
    const cpu = splitCpu(before, snapshotCpu(undefined, plan.database), elapsed)
    const sorted = Float64Array.from(latencies).sort()
    const result: LoadResult = {
      requests: sorted.length,
      seconds: elapsed,
      reqPerSec: sorted.length / elapsed,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: percentile(sorted, 100),
      non2xx: 0,
      errors,
      timeouts: 0,
      statusCodes: {},
      cpu,
      serverCpuMsPerRequest: (cpu.loadGeneratorMsPerSec * elapsed) / Math.max(1, sorted.length),
      postgresCpuMsPerRequest: (cpu.postgresMsPerSec * elapsed) / Math.max(1, sorted.length),
      latencies: plan.keepLatencies ? Array.from(sorted, (ms) => Math.round(ms * 1000) / 1000) : undefined,
    }
    process.stdout.write(JSON.stringify(result) + '\n')
  } finally {
    await pool.end()
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e)
  process.exit(1)
})
