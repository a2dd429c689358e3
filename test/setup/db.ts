import { randomUUID } from 'node:crypto'
import { inject } from 'vitest'
import type { LogEvent } from 'kysely'
import { createDb, type Db } from '../../src/db/connect.js'

/** Opens a pool on the run's test database (PostgreSQL in CI, PGlite otherwise). */
export function openTestDb(options: { onQuery?: (e: LogEvent) => void; poolSize?: number } = {}): Promise<Db> {
  return createDb({ databaseUrl: inject('databaseUrl'), dataDir: '', poolSize: options.poolSize ?? 4, onQuery: options.onQuery })
}

/** A tenant slug no other test uses. */
export const freshTenantId = (prefix = 't') => `${prefix}-${randomUUID().slice(0, 12)}`
