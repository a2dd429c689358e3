import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { INDEX_TABLES } from './indexing/index-tables.js'

/** The tables whose row counts and value distributions drive search plans. */
const TABLES = ['resource', ...INDEX_TABLES]

export interface PlannerStatisticsOptions {
  /** Resources written since the last ANALYZE before another is considered. */
  readonly minRows?: number
  /** ...and at least this fraction of the resources stored at the last ANALYZE. */
  readonly growth?: number
  /** Never two ANALYZE runs closer than this (ms). */
  readonly minIntervalMs?: number
  readonly onError?: (err: unknown) => void
}

/**
 * Keeps the planner's statistics in step with bulk ingest. Search SQL is a chain of EXISTS probes
 * whose plan depends on table statistics: on tables the planner still believes empty (a fresh
 * database right after a Synthea import) it picks nested loops over whole index ranges, and a
 * 10 ms search takes seconds. PostgreSQL's autovacuum fixes this only after its naptime (a
 * minute), and embedded PGlite has no autovacuum at all. So writes report their row counts here,
 * and once the stored resources have doubled since the last run (at least `minRows` writes) an
 * ANALYZE of the search tables runs in the background, outside any request's transaction.
 * Doubling, not autovacuum's 10%: what goes wrong is a plan made for nearly empty tables, which
 * doubling fixes as fast; row counts stay right between runs anyway (the planner scales
 * `reltuples` by the tables' current size); and each run samples 30,000 rows of ten tables and
 * builds their multi-column statistics: at 10% it took a quarter of PostgreSQL's CPU during a
 * create benchmark growing from 2,000 to 80,000 resources. On PostgreSQL autovacuum still
 * analyzes at its own 10% once its naptime passes.
 */
export class PlannerStatistics {
  private pending = 0
  private rowsAtLastRun = 0
  private lastRunAt = 0
  private running: Promise<void> | undefined
  private readonly minRows: number
  private readonly growth: number
  private readonly minIntervalMs: number

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PlannerStatisticsOptions = {},
  ) {
    this.minRows = options.minRows ?? 1_000
    this.growth = options.growth ?? 1
    this.minIntervalMs = options.minIntervalMs ?? 2_000
  }

  /** Called after writes of `resources` resources committed. */
  noteWrites(resources: number): void {
    this.pending += resources
    if (this.running || this.pending < Math.max(this.minRows, this.rowsAtLastRun * this.growth)) return
    if (Date.now() - this.lastRunAt < this.minIntervalMs) return
    this.running = this.analyze().finally(() => {
      this.running = undefined
    })
  }

  /** Resolves when no ANALYZE is running (tests and shutdown). */
  async settled(): Promise<void> {
    await this.running
  }

  private async analyze(): Promise<void> {
    this.pending = 0
    this.lastRunAt = Date.now()
    try {
      await sql`ANALYZE ${sql.join(TABLES.map((t) => sql.table(t)))}`.execute(this.db)
      const { rows } = await sql<{ n: string | null }>`SELECT greatest(reltuples, 0)::bigint::text AS n FROM pg_class WHERE relname = 'resource'`.execute(this.db)
      this.rowsAtLastRun = Number(rows[0]?.n ?? 0)
    } catch (err) {
      // Statistics are an optimisation: a failed ANALYZE (a shutdown, a lock timeout) must never fail a write.
      this.options.onError?.(err)
    }
  }
}
