/**
 * Where the WAL of a create goes, table by table and index by index: the server's own create
 * statements (write-statements.ts, as write-sql-cost.ts runs them) through `pgbench -M prepared`
 * for a few seconds each on the database `segimed_write_cost`, then `pg_waldump` over the WAL each
 * case wrote, its record sizes summed per relation and divided by the creates. At 16 clients the
 * backends of a create spend about as much time waiting for the WAL flush of their commit as running
 * (`npm run bench` prints the shares), so what a design writes is worth measuring beside the
 * instructions it runs.
 *
 * Usage: npx tsx bench/wal-by-relation.ts [--seconds 3] [--batch 8] [--extra-sql file]
 * Runs on the machine of the PostgreSQL server (pg_waldump reads its pg_wal directory); needs
 * `pgbench` and `pg_waldump` (PG_BINDIR, else /usr/lib/postgresql/<major>/bin).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { freshWriteCostDatabase, runPgbench, writeCases } from './write-statements.js'

const DATABASE = 'segimed_write_cost'
const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, batch: { type: 'string', default: '8' }, 'extra-sql': { type: 'string' } } })
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function main() {
  const url = await freshWriteCostDatabase(adminUrl, DATABASE, args['extra-sql'])
  const admin = new pg.Client(adminUrl)
  await admin.connect()
  const major = Math.floor(Number((await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v) / 10000)
  const walDir = join((await admin.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d, 'pg_wal')
  await admin.end()
  const bindir = process.env.PG_BINDIR ?? `/usr/lib/postgresql/${major}/bin`

  const probe = new pg.Client(url)
  await probe.connect()
  const dir = mkdtempSync(join(tmpdir(), 'segimed-wal-'))
  try {
    const dbOid = (await probe.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_database WHERE datname = current_database()')).rows[0]!.oid
    const names = new Map((await probe.query<{ node: string; name: string }>(`SELECT pg_relation_filenode(oid)::text AS node, relname AS name FROM pg_class WHERE pg_relation_filenode(oid) IS NOT NULL`)).rows.map((r) => [r.node, r.name]))
    const lsn = async () => (await probe.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn
    for (const c of await writeCases(Number(args.batch))) {
      const file = join(dir, 'case.sql')
      writeFileSync(file, c.script)
      const start = await lsn()
      const { transactions } = runPgbench(file, url, args.seconds!)
      const end = await lsn()
      const creates = transactions * c.creates
      const dump = execFileSync(join(bindir, 'pg_waldump'), ['-s', start, '-e', end, '-p', walDir], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })
      const bytes = new Map<string, number>()
      let total = 0
      for (const line of dump.split('\n')) {
        const size = /len \(rec\/tot\):\s*\d+\/\s*(\d+)/.exec(line)
        if (!size) continue
        const rel = /rel \d+\/(\d+)\/(\d+)/.exec(line)
        // The WAL is the cluster's: another database's writes in the same stretch are not this case's.
        if (rel && rel[1] !== dbOid) continue
        // Records without a relation (commits, checkpoints) go by resource manager.
        const name = rel ? (names.get(rel[2]!) ?? `relfilenode ${rel[2]}`) : `(${/rmgr:\s*(\w+)/.exec(line)?.[1] ?? 'other'})`
        bytes.set(name, (bytes.get(name) ?? 0) + Number(size[1]))
        total += Number(size[1])
      }
      console.log(`${c.name}: ${creates} creates, ${(total / creates).toFixed(0)} WAL bytes per create`)
      for (const [name, b] of [...bytes].sort((a, b) => b[1] - a[1])) {
        if (b / creates >= 1) console.log(`  ${name.padEnd(32)} ${(b / creates).toFixed(0).padStart(6)}`)
      }
    }
  } finally {
    await probe.end()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
