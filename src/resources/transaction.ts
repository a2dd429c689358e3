import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import { conflict } from '../errors.js'

/** SQLSTATEs after which re-running the whole transaction can succeed. */
const RETRYABLE = new Set(['40001', '40P01'])
/** Attempts before answering 409: a deadlock rarely repeats more than once or twice. */
const MAX_ATTEMPTS = 4

/**
 * Runs `fn` in ONE database transaction (READ COMMITTED, PostgreSQL's default), committing when
 * it resolves and rolling back when it throws. A serialization failure or deadlock (40001,
 * 40P01) re-runs the whole of `fn` after a short random pause, so `fn` must build its state
 * afresh on every call; past MAX_ATTEMPTS it becomes FhirError `conflict` (409), never a 500.
 * Inside a transaction already, `fn` joins it (Kysely cannot nest transactions).
 */
export async function withTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db)
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((trx) => fn(trx))
    } catch (e) {
      if (!isRetryable(e)) throw e
      if (attempt >= MAX_ATTEMPTS) {
        throw conflict(`The transaction kept colliding with concurrent writes (${sqlState(e)}) after ${MAX_ATTEMPTS} attempts; retry it`)
      }
      // Random backoff de-synchronises the colliding transactions so the retry does not meet again.
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt))
    }
  }
}

function sqlState(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}

/** A serialization failure or deadlock (40001, 40P01): the statement or transaction wrote nothing and can run again. */
export function isRetryable(e: unknown): boolean {
  const code = sqlState(e)
  return code !== undefined && RETRYABLE.has(code)
}
