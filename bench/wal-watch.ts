/**
 * What PostgreSQL's backends of one database were doing during a load run, next to the CPU figures
 * (cpu.ts): the WAL the run wrote, and what its busy backends were waiting on, sampled from
 * pg_stat_activity. At 16 clients a create's transaction ends with a WAL flush: on a machine whose
 * fsync slows down under a steady write stream, backends spend more time waiting for that flush
 * than running, and CPU per request then explains only part of a run's time.
 */
import pg from 'pg'

export interface WalWatch {
  /** WAL bytes written by the whole cluster during the run (pg_current_wal_lsn difference). */
  walBytes: number
  /** Samples of active backends of the database: running, waiting for WAL (IO:WALSync, IO:WALWrite, LWLock:WALWrite), waiting on anything else. */
  samples: { running: number; wal: number; other: number }
}

const SAMPLE_SQL = `SELECT coalesce(wait_event_type, '') AS type, coalesce(wait_event, '') AS event
  FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND backend_type = 'client backend'`
const LSN_SQL = `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn`

/**
 * Starts watching the backends of `database`, connected through `serverUrl` (any database of the same
 * server: pg_stat_activity and the WAL position are the server's); `stop()` ends the sampling and
 * returns what was seen since the start.
 */
export async function watchWal(serverUrl: string, database: string, intervalMs = 50): Promise<{ stop(): Promise<WalWatch> }> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  const lsn = async () => Number((await client.query<{ lsn: string }>(LSN_SQL)).rows[0]!.lsn)
  const start = await lsn()
  const samples = { running: 0, wal: 0, other: 0 }
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ type: string; event: string }>(SAMPLE_SQL, [database])
      for (const r of rows) {
        if (r.type === '') samples.running++
        else if (r.event === 'WALSync' || r.event === 'WALWrite') samples.wal++
        else samples.other++
      }
      await new Promise((done) => setTimeout(done, intervalMs))
    }
  })()
  return {
    async stop() {
      stopped = true
      await loop
      const walBytes = (await lsn()) - start
      await client.end()
      return { walBytes, samples }
    },
  }
}

/** How many backend samples a watch took. */
export const sampleCount = (w: WalWatch) => w.samples.running + w.samples.wal + w.samples.other

/** "wal 14.1 kB/req, backends running 36% wal 57% other 7%" for a run line. */
export function describeWal(w: WalWatch, requests: number): string {
  const total = sampleCount(w)
  const pct = (n: number) => (total ? `${Math.round((100 * n) / total)}%` : '-')
  return `wal ${(w.walBytes / requests / 1000).toFixed(1)} kB/req, backends running ${pct(w.samples.running)} wal ${pct(w.samples.wal)} other ${pct(w.samples.other)}`
}
