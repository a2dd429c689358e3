import { sql, type Insertable, type Kysely } from 'kysely'
import type { OneTimeCodeRow } from '../db/auth-tables.js'
import type { Database } from '../db/database.js'

export type OneTimeCode = OneTimeCodeRow
export type NewOneTimeCode = Insertable<Database['one_time_code']>

/** Throttling rule for one subject: at most `maxFailures` within `windowSeconds`, then locked. */
export interface LockoutRule {
  maxFailures: number
  windowSeconds: number
  lockSeconds: number
}

/**
 * The SQL behind sign-in throttling, one-time codes and password resets. Every check-and-set
 * is one statement, so concurrent attempts cannot slip past a limit.
 */
export interface CredentialStore {
  /** Counts a failure of `subject`; returns when it is locked until, if the failure locked it. */
  recordFailure(subject: string, now: Date, rule: LockoutRule): Promise<{ failures: number; lockedUntil?: Date }>
  /** The latest lock among `subjects` still in force at `now`. */
  lockedUntil(subjects: readonly string[], now: Date): Promise<Date | undefined>
  clearFailures(subject: string): Promise<void>
  insertOneTimeCode(row: NewOneTimeCode): Promise<void>
  /**
   * Inserts the code (created at `now`) unless `limit` codes went to its account or its
   * destination since `since`; then answers when the oldest of those leaves the window. Sends for
   * one account are serialised (its row is locked), so concurrent requests cannot pass the limit.
   */
  insertOneTimeCodeWithinLimit(row: NewOneTimeCode, now: Date, since: Date, limit: number): Promise<{ inserted: true } | { inserted: false; oldest: Date }>
  /**
   * Counts one attempt on an unconsumed, unexpired code with fewer than `maxAttempts` attempts
   * and returns it (with the new count); undefined when the code cannot be tried any more.
   */
  tryOneTimeCode(codeId: string, now: Date, maxAttempts: number): Promise<OneTimeCode | undefined>
  consumeOneTimeCode(codeId: string, now: Date): Promise<boolean>
  insertPasswordReset(row: { token_hash: string; account_id: string; expires_at: Date }): Promise<void>
  /** Marks the reset token used and returns its account, only if it was unused and unexpired. */
  consumePasswordReset(tokenHash: string, now: Date): Promise<string | undefined>
}

export function createCredentialStore(db: Kysely<Database>): CredentialStore {
  return {
    async recordFailure(subject, now, rule) {
      const windowStart = new Date(now.getTime() - rule.windowSeconds * 1000)
      const lockUntil = new Date(now.getTime() + rule.lockSeconds * 1000)
      // A failure after the window restarts the count; reaching the limit sets the lock.
      const fresh = sql<boolean>`login_lockout.window_started_at < ${windowStart}`
      const count = sql<number>`CASE WHEN ${fresh} THEN 1 ELSE login_lockout.failures + 1 END`
      const row = await db
        .insertInto('login_lockout')
        .values({ subject, failures: 1, window_started_at: now, locked_until: rule.maxFailures <= 1 ? lockUntil : null })
        .onConflict((oc) =>
          oc.column('subject').doUpdateSet({
            failures: count,
            window_started_at: sql`CASE WHEN ${fresh} THEN ${now} ELSE login_lockout.window_started_at END`,
            locked_until: sql`CASE WHEN ${count} >= ${rule.maxFailures} THEN ${lockUntil} ELSE login_lockout.locked_until END`,
          }),
        )
        .returning(['failures', 'locked_until'])
        .executeTakeFirstOrThrow()
      return { failures: row.failures, lockedUntil: row.locked_until && row.locked_until > now ? row.locked_until : undefined }
    },

    async lockedUntil(subjects, now) {
      if (subjects.length === 0) return undefined
      const row = await db
        .selectFrom('login_lockout')
        .select((eb) => eb.fn.max('locked_until').as('until'))
        .where('subject', 'in', [...subjects])
        .where('locked_until', '>', now)
        .executeTakeFirst()
      return row?.until ? new Date(row.until) : undefined
    },

    async clearFailures(subject) {
      await db.deleteFrom('login_lockout').where('subject', '=', subject).execute()
    },

    async insertOneTimeCode(row) {
      await db.insertInto('one_time_code').values(row).execute()
    },

    insertOneTimeCodeWithinLimit(row, now, since, limit) {
      return db.transaction().execute(async (trx) => {
        await trx.selectFrom('account').select('account_id').where('account_id', '=', row.account_id).forUpdate().execute()
        const sent = await trx
          .selectFrom('one_time_code')
          .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('created_at').as('oldest')])
          .where((eb) => eb.or([eb('account_id', '=', row.account_id), eb('destination', '=', row.destination)]))
          .where('created_at', '>', since)
          .executeTakeFirst()
        if (Number(sent?.n ?? 0) >= limit && sent?.oldest) return { inserted: false as const, oldest: new Date(sent.oldest) }
        await trx.insertInto('one_time_code').values({ ...row, created_at: now }).execute()
        return { inserted: true as const }
      })
    },

    tryOneTimeCode(codeId, now, maxAttempts) {
      return db
        .updateTable('one_time_code')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('code_id', '=', codeId)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .where('attempts', '<', maxAttempts)
        .returningAll()
        .executeTakeFirst()
    },

    async consumeOneTimeCode(codeId, now) {
      const result = await db
        .updateTable('one_time_code')
        .set({ consumed_at: now })
        .where('code_id', '=', codeId)
        .where('consumed_at', 'is', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },

    async insertPasswordReset(row) {
      await db.insertInto('password_reset').values(row).execute()
    },

    async consumePasswordReset(tokenHash, now) {
      const row = await db
        .updateTable('password_reset')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('account_id')
        .executeTakeFirst()
      return row?.account_id
    },
  }
}
