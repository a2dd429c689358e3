import type { Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import type { SearchPage, SearchQuery } from './types.js'
import { toStored } from './resource-store.js'

/**
 * The search the core needs before the search engine lands: `_id` and `_lastUpdated`
 * (https://hl7.org/fhir/R4/search.html#all), newest first.
 */
export async function basicSearch(db: Kysely<Database>, tenantId: string, q: SearchQuery): Promise<SearchPage> {
  let base = db
    .selectFrom('resource')
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', q.resourceType)
    .where('deleted', '=', false)
  if (q.ids) base = base.where('id', 'in', q.ids.length ? [...q.ids] : [''])
  for (const range of q.lastUpdated ?? []) {
    const { start, end } = range
    switch (range.op) {
      case 'eq': base = base.where('last_updated', '>=', start).where('last_updated', '<', end); break
      case 'ne': base = base.where((eb) => eb.or([eb('last_updated', '<', start), eb('last_updated', '>=', end)])); break
      case 'gt': case 'sa': base = base.where('last_updated', '>=', end); break
      case 'lt': case 'eb': base = base.where('last_updated', '<', start); break
      case 'ge': base = base.where('last_updated', '>=', start); break
      case 'le': base = base.where('last_updated', '<', end); break
    }
  }
  const [rows, total] = await Promise.all([
    base
      .select(['id', 'version_id', 'last_updated', 'deleted', 'content'])
      .orderBy('last_updated', 'desc')
      .orderBy('id')
      .limit(q.count)
      .offset(q.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ])
  return { entries: rows.map((r) => toStored(q.resourceType, r.id, r)), total: Number(total.n) }
}
