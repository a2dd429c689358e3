import { sql, type Insertable, type Kysely } from 'kysely'
import type { Database, NewOAuthClientRow, OAuthClientRow, SigningKeyRow } from '../db/database.js'

/** A registered OAuth client; `secret_hash` is never the secret itself (see src/auth/client-secret.ts). */
export type OAuthClient = OAuthClientRow
export type NewOAuthClient = NewOAuthClientRow
/** A server-wide token signing key pair, stored as JWK JSON text. */
export type SigningKey = SigningKeyRow
export type NewSigningKey = Insertable<Database['signing_key']>

/** The SQL behind src/auth: OAuth clients and token signing keys. Knows nothing of HTTP or JWT. */
export interface OAuthStore {
  /** Inserts a client; resolves false (and changes nothing) when its client_id is already taken. */
  insertClient(row: NewOAuthClient): Promise<boolean>
  /** Looks a client up by its server-wide unique client_id (the token endpoint has no tenant). */
  findClient(clientId: string): Promise<OAuthClient | undefined>
  findClientInTenant(tenantId: string, clientId: string): Promise<OAuthClient | undefined>
  /** The tenant's clients, by name. */
  listClients(tenantId: string): Promise<OAuthClient[]>
  /** Resolves false when the tenant has no such client. */
  deleteClient(tenantId: string, clientId: string): Promise<boolean>
  /** Every signing key, newest first. */
  listSigningKeys(): Promise<SigningKey[]>
  insertSigningKey(row: NewSigningKey): Promise<void>
  /**
   * Inserts `row` only if no signing key of its `alg` exists yet, and returns the newest key of
   * that alg either way.
   * Serialised by a transaction-scoped advisory lock, so instances starting at the same moment
   * all end up signing with the same key.
   */
  insertFirstSigningKey(row: NewSigningKey): Promise<SigningKey>
}

export function createOAuthStore(db: Kysely<Database>): OAuthStore {
  const newestKey = (q: Kysely<Database>, alg: string) =>
    q.selectFrom('signing_key').selectAll().where('alg', '=', alg).orderBy('created_at', 'desc').orderBy('kid', 'desc').limit(1).executeTakeFirst()

  return {
    async insertClient(row) {
      // No conflict target: covers both the (tenant_id, client_id) key and the server-wide client_id index.
      const result = await db.insertInto('oauth_client').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1
    },

    findClient(clientId) {
      return db.selectFrom('oauth_client').selectAll().where('client_id', '=', clientId).executeTakeFirst()
    },

    findClientInTenant(tenantId, clientId) {
      return db
        .selectFrom('oauth_client')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
    },

    listClients(tenantId) {
      return db.selectFrom('oauth_client').selectAll().where('tenant_id', '=', tenantId).orderBy('name').orderBy('client_id').execute()
    },

    async deleteClient(tenantId, clientId) {
      const result = await db.deleteFrom('oauth_client').where('tenant_id', '=', tenantId).where('client_id', '=', clientId).executeTakeFirst()
      return Number(result.numDeletedRows) === 1
    },

    listSigningKeys() {
      return db.selectFrom('signing_key').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute()
    },

    async insertSigningKey(row) {
      await db.insertInto('signing_key').values(row).execute()
    },

    insertFirstSigningKey(row) {
      return db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(hashtext('segimed.signing_key'))`.execute(tx)
        const existing = await newestKey(tx, row.alg)
        if (existing) return existing
        return tx.insertInto('signing_key').values(row).returningAll().executeTakeFirstOrThrow()
      })
    },
  }
}
