import pg from 'pg'

/**
 * Reads every table and index of the bench database once (pg_prewarm in `read` mode: into the
 * operating system's page cache, not shared_buffers), so the scenarios measure a warm server, as a
 * running one is. Right after a load about a gigabyte of freshly built indexes was not cached: the
 * first run read it from disk, and obs-code-date at c=1 measured p95 56-65 ms cold against 51 ms
 * warm, for the hand-written SQL as for ours. Where the pg_prewarm extension (PostgreSQL contrib)
 * is missing, this says so and the bench goes on with whatever the cache holds.
 */
export async function prewarm(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const client = new pg.Client(databaseUrl)
  await client.connect()
  try {
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm')
    } catch (err) {
      log(`pg_prewarm is not available (${(err as Error).message}): measuring with whatever the page cache holds`)
      return
    }
    const started = performance.now()
    const { rows } = await client.query<{ blocks: string }>(`
      SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0)::bigint::text AS blocks
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'i', 't') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`)
    const gb = (Number(rows[0]!.blocks) * 8192) / 1e9
    log(`Prewarmed ${gb.toFixed(1)} GB of tables and indexes into the page cache in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    await client.end()
  }
}
