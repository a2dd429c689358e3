import type { Insertable, Kysely } from 'kysely'
import type { AuthorizationCodeRow, LaunchContextRow, NewAuthorizationCodeRow, NewRefreshTokenRow, RefreshTokenRow } from '../db/auth-tables.js'
import type { Database } from '../db/database.js'

export type AuthorizationCode = AuthorizationCodeRow
export type NewAuthorizationCode = NewAuthorizationCodeRow
export type RefreshToken = RefreshTokenRow
export type NewRefreshToken = NewRefreshTokenRow
export type LaunchContext = LaunchContextRow
export type NewLaunchContext = Insertable<Database['launch_context']>

export type CodeRedemption =
  | { status: 'ok'; code: AuthorizationCode }
  | { status: 'used'; code: AuthorizationCode }
  | { status: 'unknown' }

export type RefreshRotation =
  | { status: 'ok'; token: RefreshToken }
  /** A token already rotated, presented again: the caller revokes its family. */
  | { status: 'reused'; token: RefreshToken }
  | { status: 'invalid' }

/**
 * The SQL behind OAuth grants: authorization codes, refresh tokens (rotation families), EHR
 * launch contexts, client-assertion `jti`s and revoked access tokens. Codes and tokens are
 * looked up by their SHA-256 hash; the raw values never reach the database.
 */
export interface GrantStore {
  insertCode(row: NewAuthorizationCode): Promise<void>
  /** Marks the code used in one statement (so two redemptions cannot both succeed) and returns it. */
  redeemCode(codeHash: string, now: Date): Promise<CodeRedemption>
  insertRefreshToken(row: NewRefreshToken): Promise<void>
  /** Marks an unrotated, unrevoked, unexpired token rotated and returns it; tells reuse apart. */
  rotateRefreshToken(tokenHash: string, now: Date): Promise<RefreshRotation>
  findRefreshToken(tokenHash: string): Promise<RefreshToken | undefined>
  revokeRefreshFamily(tenantId: string, familyId: string, now: Date): Promise<void>
  insertLaunch(row: NewLaunchContext): Promise<void>
  findLaunch(tenantId: string, launchId: string, now: Date): Promise<LaunchContext | undefined>
  /** Records a client assertion's jti; false when it was already used (a replay). */
  recordJti(row: { tenant_id: string; client_id: string; jti: string; expires_at: Date }, now: Date): Promise<boolean>
  revokeAccessToken(row: { tenant_id: string; jti: string; expires_at: Date }): Promise<void>
  /** Revocations recorded at or after `since` whose tokens are still unexpired at `now`. */
  listRevokedSince(since: Date, now: Date): Promise<{ tenant_id: string; jti: string; expires_at: Date; revoked_at: Date }[]>
}

export function createGrantStore(db: Kysely<Database>): GrantStore {
  return {
    async insertCode(row) {
      await db.insertInto('authorization_code').values(row).execute()
    },

    async redeemCode(codeHash, now) {
      const code = await db
        .updateTable('authorization_code')
        .set({ used_at: now })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .returningAll()
        .executeTakeFirst()
      if (code) return { status: 'ok', code }
      const used = await db.selectFrom('authorization_code').selectAll().where('code_hash', '=', codeHash).executeTakeFirst()
      return used ? { status: 'used', code: used } : { status: 'unknown' }
    },

    async insertRefreshToken(row) {
      await db.insertInto('refresh_token').values(row).execute()
    },

    async rotateRefreshToken(tokenHash, now) {
      const token = await db
        .updateTable('refresh_token')
        .set({ rotated_at: now })
        .where('token_hash', '=', tokenHash)
        .where('rotated_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst()
      if (token) return { status: 'ok', token }
      const known = await db.selectFrom('refresh_token').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
      return known?.rotated_at ? { status: 'reused', token: known } : { status: 'invalid' }
    },

    findRefreshToken(tokenHash) {
      return db.selectFrom('refresh_token').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
    },

    async revokeRefreshFamily(tenantId, familyId, now) {
      await db
        .updateTable('refresh_token')
        .set({ revoked_at: now })
        .where('tenant_id', '=', tenantId)
        .where('family_id', '=', familyId)
        .where('revoked_at', 'is', null)
        .execute()
    },

    async insertLaunch(row) {
      await db.insertInto('launch_context').values(row).execute()
    },

    findLaunch(tenantId, launchId, now) {
      return db
        .selectFrom('launch_context')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('launch_id', '=', launchId)
        .where('expires_at', '>', now)
        .executeTakeFirst()
    },

    async recordJti(row, now) {
      // Expired jtis can never be replayed (their assertion is refused as expired), so they go.
      await db.deleteFrom('used_jti').where('tenant_id', '=', row.tenant_id).where('client_id', '=', row.client_id).where('expires_at', '<', now).execute()
      const result = await db.insertInto('used_jti').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1
    },

    async revokeAccessToken(row) {
      await db.insertInto('revoked_token').values(row).onConflict((oc) => oc.doNothing()).execute()
    },

    listRevokedSince(since, now) {
      return db
        .selectFrom('revoked_token')
        .select(['tenant_id', 'jti', 'expires_at', 'revoked_at'])
        .where('revoked_at', '>=', since)
        .where('expires_at', '>', now)
        .execute()
    },
  }
}
