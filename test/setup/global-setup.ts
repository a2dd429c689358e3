import type { TestProject } from 'vitest/node'
import pg from 'pg'
import { createDb, startEmbeddedPostgres } from '../../src/db/connect.js'
import { migrateToLatest } from '../../src/db/migrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
    /** True when databaseUrl is the embedded PGlite socket (one backend session for every connection). */
    isEmbeddedDatabase: boolean
  }
}

/**
 * One database per test project, migrated once. Tests isolate themselves by creating a fresh
 * tenant each, so no truncation is needed (and tenant isolation is exercised on every run).
 * With DATABASE_URL (CI): a fresh database `segimed_test_<pid>_<project>` on that server.
 * Without it: an in-memory PGlite served over a Unix socket to every worker.
 */
export default async function setup(project: TestProject) {
  const serverUrl = process.env.DATABASE_URL
  if (serverUrl) {
    // One database per project (vitest.config.ts runs the planner's tests apart, in their own).
    const name = `segimed_test_${process.pid}${project.name ? `_${project.name.replace(/[^a-z0-9]/gi, '')}` : ''}`
    const admin = new pg.Client({ connectionString: serverUrl })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    const { db, close } = await createDb({ databaseUrl: url.toString(), dataDir: '', poolSize: 2 })
    await migrateToLatest(db)
    await close()
    project.provide('databaseUrl', url.toString())
    project.provide('isEmbeddedDatabase', false)
    return async () => {
      const admin2 = new pg.Client({ connectionString: serverUrl })
      await admin2.connect()
      await admin2.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin2.end()
    }
  }
  const embedded = await startEmbeddedPostgres('memory://', 64)
  const url = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(embedded.socketDir)}`
  const { db, close } = await createDb({ databaseUrl: url, dataDir: '', poolSize: 1 })
  await migrateToLatest(db)
  await close()
  project.provide('databaseUrl', url)
  project.provide('isEmbeddedDatabase', true)
  return () => embedded.stop()
}
