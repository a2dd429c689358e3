import type { Kysely } from 'kysely'
import type { AccountRow, MembershipRole, MembershipRow, NewAccountRow } from '../db/auth-tables.js'
import type { Database } from '../db/database.js'

export type Account = AccountRow
export type NewAccount = NewAccountRow
export type Membership = MembershipRow
export type { MembershipRole }
/** A membership with the clinic's display name, for the clinic picker. */
export type MembershipWithTenant = Membership & { tenant_name: string }

/**
 * The SQL behind accounts (server-wide: one person, many clinics) and their memberships
 * (one per clinic: role and FHIR identity there). Knows nothing of passwords or HTTP.
 */
export interface AccountStore {
  /** Inserts an account; resolves false when its email or phone belongs to another account. */
  insertAccount(row: NewAccount): Promise<boolean>
  findAccount(accountId: string): Promise<Account | undefined>
  /** By normalised email (lower case) or phone (E.164). */
  findAccountByLogin(login: { email?: string; phone?: string }): Promise<Account | undefined>
  updateAccount(
    accountId: string,
    changes: Partial<Pick<NewAccount, 'password_hash' | 'phone_verified_at' | 'email_verified_at' | 'otp_required' | 'disabled' | 'phone' | 'email'>>,
  ): Promise<void>
  /** Creates or replaces the account's membership in `tenant_id`. */
  upsertMembership(row: { tenant_id: string; account_id: string; role: MembershipRole; fhir_user: string | null }): Promise<Membership>
  findMembership(tenantId: string, accountId: string): Promise<Membership | undefined>
  /** Every clinic the account belongs to, by clinic name. */
  listMemberships(accountId: string): Promise<MembershipWithTenant[]>
  listTenantMemberships(tenantId: string): Promise<Membership[]>
  /** Resolves false when there was no such membership. */
  deleteMembership(tenantId: string, accountId: string): Promise<boolean>
}

export function createAccountStore(db: Kysely<Database>): AccountStore {
  return {
    async insertAccount(row) {
      const result = await db.insertInto('account').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1
    },

    findAccount(accountId) {
      return db.selectFrom('account').selectAll().where('account_id', '=', accountId).executeTakeFirst()
    },

    findAccountByLogin({ email, phone }) {
      if (email === undefined && phone === undefined) return Promise.resolve(undefined)
      let q = db.selectFrom('account').selectAll()
      q = email !== undefined ? q.where('email', '=', email) : q.where('phone', '=', phone ?? '')
      return q.executeTakeFirst()
    },

    async updateAccount(accountId, changes) {
      if (Object.keys(changes).length === 0) return
      await db.updateTable('account').set(changes).where('account_id', '=', accountId).execute()
    },

    upsertMembership(row) {
      return db
        .insertInto('membership')
        .values(row)
        .onConflict((oc) => oc.columns(['tenant_id', 'account_id']).doUpdateSet({ role: row.role, fhir_user: row.fhir_user }))
        .returningAll()
        .executeTakeFirstOrThrow()
    },

    findMembership(tenantId, accountId) {
      return db.selectFrom('membership').selectAll().where('tenant_id', '=', tenantId).where('account_id', '=', accountId).executeTakeFirst()
    },

    listMemberships(accountId) {
      return db
        .selectFrom('membership')
        .innerJoin('tenant', 'tenant.tenant_id', 'membership.tenant_id')
        .selectAll('membership')
        .select('tenant.name as tenant_name')
        .where('membership.account_id', '=', accountId)
        .orderBy('tenant.name')
        .execute()
    },

    listTenantMemberships(tenantId) {
      return db.selectFrom('membership').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').execute()
    },

    async deleteMembership(tenantId, accountId) {
      const result = await db.deleteFrom('membership').where('tenant_id', '=', tenantId).where('account_id', '=', accountId).executeTakeFirst()
      return Number(result.numDeletedRows) === 1
    },
  }
}
