import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Organization } from '@medplum/fhirtypes'
import type { Database } from '../db/database.js'
import { invalid } from '../errors.js'
import type { Repository } from './repository.js'
import type { Tenant } from './types.js'

export const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/

export interface TenantStore {
  /** The tenant, or undefined. Positive answers are cached in-process (tenants are never removed). */
  find(tenantId: string): Promise<Tenant | undefined>
  /** Creates the tenant and its Organization resource; idempotent for an existing slug. */
  ensure(tenantId: string, name: string): Promise<{ tenant: Tenant; created: boolean }>
  list(): Promise<Tenant[]>
}

export function createTenantStore(db: Kysely<Database>, repo: Repository): TenantStore {
  const cache = new Map<string, Tenant>()
  const toTenant = (r: { tenant_id: string; name: string; organization_id: string }): Tenant => ({
    tenantId: r.tenant_id,
    name: r.name,
    organizationId: r.organization_id,
  })
  const find = async (tenantId: string) => {
    const hit = cache.get(tenantId)
    if (hit) return hit
    const row = await db.selectFrom('tenant').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
    if (!row) return undefined
    const tenant = toTenant(row)
    cache.set(tenantId, tenant)
    return tenant
  }
  return {
    find,
    async ensure(tenantId, name) {
      if (!TENANT_SLUG.test(tenantId)) {
        throw invalid(`Tenant slug '${tenantId}' is invalid: use 1-63 lowercase letters, digits and '-', starting with a letter or digit`)
      }
      const inserted = await db
        .insertInto('tenant')
        .values({ tenant_id: tenantId, name, organization_id: randomUUID() })
        .onConflict((oc) => oc.column('tenant_id').doNothing())
        .returningAll()
        .executeTakeFirst()
      const tenant = inserted ? toTenant(inserted) : await find(tenantId)
      if (!tenant) throw new Error(`tenant ${tenantId} vanished while being created`)
      // The Organization is written after the tenant row (its rows reference the tenant); an
      // interrupted first attempt is completed by the next ensure().
      const org = await repo.read({ tenantId }, 'Organization', tenant.organizationId).catch(() => undefined)
      if (!org) {
        const organization: Organization = { resourceType: 'Organization', id: tenant.organizationId, active: true, name }
        await repo.update({ tenantId }, organization)
      }
      return { tenant, created: Boolean(inserted) }
    },
    async list() {
      return (await db.selectFrom('tenant').selectAll().orderBy('tenant_id').execute()).map(toTenant)
    },
  }
}
