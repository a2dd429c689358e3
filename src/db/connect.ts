import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Kysely, PostgresDialect, type LogEvent } from 'kysely'
import pg from 'pg'
import type { Database } from './database.js'
import { preparingPool } from './prepared-statements.js'

// bigint (int8) columns such as resource_history.seq come back as strings by default; keep them
// strings (they are cursors), but make timestamptz arrive as Date (pg's default) — nothing to set.

/**
 * Session settings on PostgreSQL. A search page is a short index walk with a LIMIT; at the default
 * parallel_setup_cost (1000) the planner made some of them parallel Gather Merge plans whose worker
 * start-up (~8 ms) dwarfed the 2 ms walk (page 50 of a sorted search at 1M resources: 11 ms -> 2.3 ms).
 * 2500 still lets large scans (counts, a `_has` over a common code) run in parallel.
 */
const SESSION_SETTINGS = '-c parallel_setup_cost=2500'

export interface DbOptions {
  databaseUrl?: string
  dataDir: string
  poolSize: number
  /** Called for every executed query (tests count statements through it). */
  onQuery?: (event: LogEvent) => void
}

export interface Db {
  db: Kysely<Database>
  /** 'postgres' or 'pglite' — for logs and the readiness probe only. */
  engine: 'postgres' | 'pglite'
  close(): Promise<void>
}

/**
 * Opens the database: PostgreSQL when a URL is given, else an embedded PGlite served over the
 * PostgreSQL wire protocol on a Unix socket inside dataDir, so `pg` + Kysely run unchanged on both.
 */
export async function createDb(options: DbOptions): Promise<Db> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, options: SESSION_SETTINGS })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }), log: options.onQuery })
    return { db, engine: 'postgres', close: () => db.destroy() }
  }
  const embedded = await startEmbeddedPostgres(options.dataDir, options.poolSize)
  const pool = new pg.Pool({ host: embedded.socketDir, port: 5432, user: 'postgres', database: 'postgres', max: options.poolSize })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: options.onQuery })
  return {
    db,
    engine: 'pglite',
    close: async () => {
      await db.destroy()
      await embedded.stop()
    },
  }
}

/** Starts PGlite (persisted in dataDir, or in memory for 'memory://') behind a socket server. */
export async function startEmbeddedPostgres(dataDir: string, maxConnections: number) {
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const inMemory = dataDir.startsWith('memory://')
  const socketDir = inMemory ? mkdtempSocketDir() : resolve(dataDir)
  const pgDir = inMemory ? undefined : resolve(dataDir, 'pg')
  if (pgDir) mkdirSync(pgDir, { recursive: true })
  const releaseLock = pgDir ? lockDataDir(socketDir) : () => {}
  try {
    const pglite = pgDir ? await PGlite.create(pgDir) : await PGlite.create()
    const server = new PGLiteSocketServer({ db: pglite, path: `${socketDir}/.s.PGSQL.5432`, maxConnections })
    await server.start()
    return {
      socketDir,
      async stop() {
        await server.stop()
        await pglite.close()
        releaseLock()
      },
    }
  } catch (e) {
    releaseLock()
    throw e
  }
}

/**
 * PGlite is a single-process database: two processes on one data directory would corrupt it.
 * A pid file refuses the second one with a message saying which process holds it.
 */
function lockDataDir(dir: string): () => void {
  const lockFile = resolve(dir, 'segimed.pid')
  let holder: number | undefined
  try {
    holder = Number(readFileSync(lockFile, 'utf8'))
  } catch {
    holder = undefined
  }
  if (holder && holder !== process.pid && isAlive(holder)) {
    throw new Error(
      `The embedded database in ${dir} is in use by process ${holder}. Stop it first, or set DATABASE_URL to use PostgreSQL.`,
    )
  }
  writeFileSync(lockFile, String(process.pid))
  rmSync(`${dir}/.s.PGSQL.5432`, { force: true })
  return () => rmSync(lockFile, { force: true })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function mkdtempSocketDir(): string {
  const dir = resolve(process.env.TMPDIR ?? '/tmp', `segimed-pglite-${process.pid}-${Date.now()}`)
  mkdirSync(dir, { recursive: true })
  return dir
}
