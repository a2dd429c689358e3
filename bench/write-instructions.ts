/**
 * What the create statements cost PostgreSQL in instructions, with and without index rows: the
 * scripts of write-statements.ts (one create; a coalesced batch) run by a single-user PostgreSQL
 * backend under `valgrind --tool=callgrind`, which counts instructions, not seconds. The count is
 * the same run after run whatever else the machine does, where write-sql-cost.ts's pgbench times
 * moved by 30% between runs on a shared 2-core machine (batch ratio 1.98x, then 2.95x): the measure
 * to decide between two table or index designs (`--extra-sql`). It leaves out what instructions do
 * not see (cache misses, WAL flushes, lock waits), so confirm a change with `npm run bench`.
 *
 * Each case runs twice on a copy of the same prepared cluster, with `--runs` and 4 x `--runs`
 * executions of one prepared statement; the difference, divided by the creates it made, is the
 * cost of a create without the start-up and shut-down of the backend. `--preload` creates run
 * first, so the B-trees have their inner levels.
 *
 * Usage: npx tsx bench/write-instructions.ts [--batch 8] [--runs 100] [--preload 20000]
 *   [--extra-sql file] [--keep]
 * Needs valgrind and PostgreSQL's server binaries (initdb, pg_ctl, postgres; PG_BIN or
 * `pg_config --bindir`). As root, the cluster runs as the user `postgres`. `--keep` keeps the
 * callgrind files for `callgrind_annotate` and prints where they are.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import pg from 'pg'
import { createDb } from '../src/db/connect.js'
import { prepareWriteCostDatabase, writeCases, type WriteCase } from './write-statements.js'

const { values: args } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    runs: { type: 'string', default: '100' },
    preload: { type: 'string', default: '20000' },
    'extra-sql': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})
const batch = Number(args.batch)
const runs = Number(args.runs)
const preload = Number(args.preload)
const DATABASE = 'write_cost'
const PORT = 54_329

const bin = process.env.PG_BIN ?? execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim()
const asRoot = process.getuid?.() === 0
/** A PostgreSQL program, as the user `postgres` when this runs as root (initdb and postgres refuse root). */
function pgCommand(program: string, programArgs: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', program, ...programArgs]] : [program, programArgs]
}
function run(program: string, programArgs: string[], input?: string): string {
  const [cmd, cmdArgs] = pgCommand(program, programArgs)
  const out = spawnSync(cmd, cmdArgs, { input, encoding: 'utf8', maxBuffer: 1 << 28 })
  if (out.status !== 0) throw new Error(`${program} failed (${out.status}):\n${out.stderr.slice(-2000)}`)
  return out.stderr
}

/** A prepared cluster: migrated database, the tenant, `--extra-sql`, `--preload` creates with index rows. */
async function prepareCluster(root: string, preloadScript: string): Promise<string> {
  const data = join(root, 'data')
  run(join(bin, 'initdb'), ['-D', data, '-E', 'UTF8', '--locale=C.UTF-8', '-A', 'trust', '-U', 'postgres'])
  run(join(bin, 'pg_ctl'), ['-D', data, '-o', `-p ${PORT} -k ${root} -c listen_addresses=''`, '-l', join(root, 'server.log'), '-w', 'start'])
  try {
    const admin = new pg.Client({ host: root, port: PORT, user: 'postgres', database: 'postgres' })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${DATABASE}`)
    await admin.end()
    const { db, close } = await createDb({ databaseUrl: `postgres://postgres@localhost:${PORT}/${DATABASE}?host=${encodeURIComponent(root)}`, dataDir: '', poolSize: 1 })
    await prepareWriteCostDatabase(db, args['extra-sql'])
    for (let done = 0; done < preload; done += batch) await sql.raw(preloadScript).execute(db)
    await sql`VACUUM ANALYZE`.execute(db)
    await close()
  } finally {
    run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])
  }
  return data
}

/** Instructions of a single-user backend that prepares the case's statement and executes it `times` times. */
function instructions(root: string, snapshot: string, c: WriteCase, times: number, outFile: string): number {
  const data = join(root, 'run')
  rmSync(data, { recursive: true, force: true })
  cpSync(snapshot, data, { recursive: true })
  if (asRoot) execFileSync('chown', ['-R', 'postgres', data])
  chmodSync(data, 0o700)
  const input = `PREPARE x AS ${c.script}${'EXECUTE x;\n'.repeat(times)}`
  const log = run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${outFile}`, join(bin, 'postgres'), '--single', '-D', data, '-c', 'fsync=off', DATABASE], input)
  const collected = /Collected : (\d+)/.exec(log)
  if (!collected) throw new Error(`callgrind printed no count:\n${log.slice(-2000)}`)
  if (/ERROR:/.test(log)) throw new Error(`the statement failed:\n${log.slice(log.indexOf('ERROR:'), log.indexOf('ERROR:') + 500)}`)
  return Number(collected[1])
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'segimed-write-instructions-'))
  if (asRoot) execFileSync('chown', ['postgres', root])
  chmodSync(root, 0o755)
  try {
    const cases = await writeCases(batch)
    const snapshot = await prepareCluster(root, cases.find((c) => c.withIndex && c.creates === batch)!.script)
    console.log(`PostgreSQL instructions per create (callgrind, single-user backend, ${preload} creates preloaded, ${runs} and ${4 * runs} executions per case):`)
    const perCreate = cases.map((c, i) => {
      const out = (n: number) => join(root, `callgrind.case${i}.${n}`)
      const few = instructions(root, snapshot, c, runs, out(runs))
      const many = instructions(root, snapshot, c, 4 * runs, out(4 * runs))
      const value = (many - few) / (3 * runs * c.creates)
      console.log(`  ${c.name.padEnd(32)} ${Math.round(value).toLocaleString('en-US').padStart(10)} instructions${args.keep ? `  (${out(4 * runs)})` : ''}`)
      return value
    })
    console.log(`  ratio with / without index rows: one create ${(perCreate[0]! / perCreate[1]!).toFixed(2)}x, batch of ${batch} ${(perCreate[2]! / perCreate[3]!).toFixed(2)}x`)
  } finally {
    if (!args.keep) rmSync(root, { recursive: true, force: true })
  }
}

await main()
