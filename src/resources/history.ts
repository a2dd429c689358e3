import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/database.js'
import type { HistoryEntry, HistoryMethod, HistoryPage, HistoryQuery } from './types.js'

/**
 * History at instance, type and system level (https://hl7.org/fhir/R4/http.html#history),
 * newest first, paged by keyset on `seq` so pages stay stable while others write.
 */
export async function readHistory(db: Kysely<Database>, tenantId: string, q: HistoryQuery): Promise<HistoryPage> {
  let base = db.selectFrom('resource_history as h').where('h.tenant_id', '=', tenantId)
  if (q.resourceType) base = base.where('h.resource_type', '=', q.resourceType)
  if (q.id) base = base.where('h.id', '=', q.id)
  if (q.since) base = base.where('h.last_updated', '>=', q.since)
  if (q.at) {
    const { start, end } = q.at
    // A version was current during [start, end) if it began before `end` and no later version
    // of the same resource began at or before `start`.
    base = base
      .where('h.last_updated', '<', end)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('resource_history as n')
              .select(sql`1`.as('one'))
              .whereRef('n.tenant_id', '=', 'h.tenant_id')
              .whereRef('n.resource_type', '=', 'h.resource_type')
              .whereRef('n.id', '=', 'h.id')
              .whereRef('n.version_id', '>', 'h.version_id')
              .where('n.last_updated', '<=', start),
          ),
        ),
      )
  }
  // A type or system history counts every matching version: 85 ms per page for a tenant of 600,000
  // versions. The first page carries the total; the pages after it (reached by `next`) leave it
  // out, which Bundle.total (0..1) allows. An instance's versions are few and always counted.
  const counted = q.before === undefined || q.id !== undefined
  const [rows, totalRow] = await Promise.all([
    (q.before ? base.where('h.seq', '<', q.before) : base)
      .select(['h.resource_type', 'h.id', 'h.version_id', 'h.last_updated', 'h.deleted', 'h.method', 'h.content', 'h.seq'])
      .orderBy('h.seq', 'desc')
      .limit(q.count + 1)
      .execute(),
    counted ? base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow() : undefined,
  ])
  const page = rows.slice(0, q.count)
  const entries: HistoryEntry[] = page.map((r) => ({
    resourceType: r.resource_type,
    id: r.id,
    versionId: String(r.version_id),
    lastUpdated: r.last_updated.toISOString(),
    deleted: r.deleted,
    json: r.content,
    method: r.method as HistoryMethod,
    seq: String(r.seq),
  }))
  const last = entries[entries.length - 1]
  return { entries, total: totalRow ? Number(totalRow.n) : undefined, next: rows.length > q.count && last ? last.seq : undefined }
}
