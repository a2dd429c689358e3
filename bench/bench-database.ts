/**
 * `npm run bench` in an existing database (BENCH_DATABASE, bench/run.ts): what it writes there is
 * its own tenants' rows and the minimal server's table, removed before and after a run so that
 * the database (the search bench's load) is left as it was.
 */
import pg from 'pg'

/** Every row of `tenants` in every table with a tenant_id, and the table bench_minimal. */
export async function removeBenchRows(databaseUrl: string, tenants: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`,
    )
    await client.query('BEGIN')
    // Foreign keys and the live-count triggers would fire per row; the tenants go whole, so neither is needed.
    await client.query(`SET LOCAL session_replication_role = replica`)
    for (const { table_name } of rows) await client.query(`DELETE FROM ${pg.escapeIdentifier(table_name)} WHERE tenant_id = ANY($1::text[])`, [tenants])
    await client.query('DROP TABLE IF EXISTS bench_minimal')
    await client.query('COMMIT')
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  } finally {
    await client.end()
  }
}

/** Resources in the database, current versions of every tenant (an estimate from the planner's statistics). */
export async function estimatedResources(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT greatest(reltuples, 0)::int8::text AS n FROM pg_class WHERE oid = to_regclass('resource')`)
    return Number(rows[0]?.n ?? 0)
  } finally {
    await client.end()
  }
}
