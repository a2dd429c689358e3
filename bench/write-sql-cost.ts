/**
 * What the create statements cost PostgreSQL alone, with and without index rows: the server's own
 * write SQL (resource-store.ts for one create, bulk-sql.ts for a coalesced batch) with the index rows
 * of `observation.json`, run by `pgbench -M prepared` at one client against a fresh database, the
 * four scripts alternating. No Node, HTTP or validation in the loop, so the figure moves only with
 * the storage design (tables, indexes, key widths) and PostgreSQL's settings: the measure to use when
 * changing them. `npm run bench` gives the same ratio for the whole server over HTTP.
 *
 * Usage: npx tsx bench/write-sql-cost.ts [--seconds 6] [--rounds 4] [--batch 8] [--extra-sql file]
 * `--extra-sql` runs a file of SQL after the migrations: the way to try a change to tables or indexes
 * before writing its migration.
 * Needs `pgbench` on the PATH; BENCH_DATABASE_URL as in run.ts (the database `segimed_write_cost` is
 * dropped and created).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freshWriteCostDatabase, runPgbench, writeCases } from './write-statements.js'

const DATABASE = 'segimed_write_cost'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '6' }, rounds: { type: 'string', default: '4' }, batch: { type: 'string', default: '8' }, 'extra-sql': { type: 'string' } } })
const seconds = Number(args.seconds)
const rounds = Number(args.rounds)
const batch = Number(args.batch)
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** WAL written between two calls: full-page images and index records are a large part of a write's cost. */
async function walPosition(client: pg.Client): Promise<{ bytes: bigint; fpi: bigint }> {
  const { rows } = await client.query<{ lsn: string; fpi: string }>(
    `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn, (SELECT wal_fpi FROM pg_stat_wal)::text AS fpi`,
  )
  return { bytes: BigInt(rows[0]!.lsn), fpi: BigInt(rows[0]!.fpi) }
}

async function main() {
  const url = new URL(await freshWriteCostDatabase(adminUrl, DATABASE, args['extra-sql']))

  const dir = mkdtempSync(join(tmpdir(), 'segimed-write-cost-'))
  const cases = (await writeCases(batch)).map((c, i) => {
    const file = join(dir, `case${i}.sql`)
    writeFileSync(file, c.script)
    return { ...c, file, micros: [] as number[], walBytes: 0n, fpi: 0n, done: 0 }
  })
  console.log(`PostgreSQL cost of the create statements (pgbench -M prepared, 1 client, ${rounds} alternating rounds of ${seconds} s, database ${DATABASE}):`)
  const probe = new pg.Client(url.toString())
  await probe.connect()
  try {
    for (let round = 0; round < rounds; round++) {
      for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
        const before = await walPosition(probe)
        const run = runPgbench(c.file, url.toString(), seconds)
        const after = await walPosition(probe)
        c.walBytes += after.bytes - before.bytes
        c.fpi += after.fpi - before.fpi
        c.done += run.transactions * c.creates
        c.micros.push(1e6 / (run.tps * c.creates))
      }
    }
  } finally {
    await probe.end()
    rmSync(dir, { recursive: true, force: true })
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  for (const c of cases) {
    const wal = Number(c.walBytes) / c.done
    console.log(`  ${c.name.padEnd(32)} ${mean(c.micros).toFixed(0).padStart(5)} µs per create  ${wal.toFixed(0).padStart(6)} WAL bytes per create (${(Number(c.fpi) / c.done).toFixed(2)} full-page images)  (rounds: ${c.micros.map((x) => x.toFixed(0)).join(' ')})`)
  }
  const ratio = (a: number, b: number) => (mean(cases[a]!.micros) / mean(cases[b]!.micros)).toFixed(2)
  console.log(`  ratio with / without index rows: one create ${ratio(0, 1)}x, batch of ${batch} ${ratio(2, 3)}x`)
}

await main()
