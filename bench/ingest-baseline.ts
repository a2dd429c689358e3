/**
 * Baselines of bench/ingest.ts, on the same database in the same run: what PostgreSQL does with
 * the same resources when nothing is validated, versioned or indexed.
 * - multi-row INSERT, 500 rows per statement, one connection, into `bench_plain(id, content jsonb)`;
 * - a single-stream COPY of the NDJSON lines (psql `\copy`) into `bench_copy(content jsonb)`.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import pg from 'pg'

export async function insertBaseline(databaseUrl: string, resources: readonly string[], batch = 500): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query('DROP TABLE IF EXISTS bench_plain; CREATE TABLE bench_plain (id text PRIMARY KEY, content jsonb NOT NULL)')
    const started = performance.now()
    for (let i = 0; i < resources.length; i += batch) {
      const rows = resources.slice(i, i + batch)
      const values = rows.map((_, n) => `($${2 * n + 1}, $${2 * n + 2})`).join(', ')
      await client.query(`INSERT INTO bench_plain (id, content) VALUES ${values}`, rows.flatMap((r) => [randomUUID(), r]))
    }
    return (performance.now() - started) / 1000
  } finally {
    await client.end()
  }
}

/** psql \copy of an NDJSON file; CSV with control-character quote and delimiter, so JSON passes untouched. */
export async function copyBaseline(databaseUrl: string, file: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  await client.query('DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (content jsonb NOT NULL)')
  await client.end()
  const started = performance.now()
  await promisify(execFile)('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy bench_copy (content) FROM '${file}' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`], {
    maxBuffer: 1024 * 1024,
  })
  return (performance.now() - started) / 1000
}
