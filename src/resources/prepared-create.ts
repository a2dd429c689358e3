import type { Kysely } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import type { Database } from '../db/database.js'
import { BulkRows } from './bulk-rows.js'
import { insertResources } from './bulk-sql.js'
import type { BulkWriteOutcome } from './bulk-types.js'
import { indexRowsFor, type SearchConfig } from './indexing/resource-indexer.js'
import type { IndexRows } from './indexing/rows.js'
import { numberTextOf, restoreNumberText } from './number-text.js'
import { newResourceId } from './resource-id.js'
import type { StoredResource } from './types.js'
import { assertValidResource } from './validation/index.js'
import { idTaken, stampMeta, storedVersion } from './versioning.js'

/**
 * A new resource with everything a create decides before it touches the database: its id, version
 * 1, lastUpdated, validation, stored JSON and index rows. Plain creates are prepared as they arrive
 * (pg-repository.ts), while the tenant's writer waits on PostgreSQL, so a batch of the create
 * coalescer is ready to send when the writer takes it, and an invalid create is answered without
 * waiting for a batch. The single and the coalesced path share this one build.
 */
export interface PreparedCreate {
  readonly resource: Resource
  readonly id: string
  readonly lastUpdated: Date
  readonly json: string
  readonly index: IndexRows
}

/** Stamps, validates and indexes `resource` as version 1 (throws its OperationOutcome when invalid). */
export function prepareCreate(search: SearchConfig, tenantId: string, resource: Resource, lastUpdated: Date, id = newResourceId()): PreparedCreate {
  const stamped = stampMeta(resource, id, 1, lastUpdated)
  assertValidResource(stamped)
  const json = restoreNumberText(JSON.stringify(stamped), numberTextOf(resource))
  return { resource: stamped, id, lastUpdated, json, index: indexRowsFor(search, tenantId, stamped) }
}

export const preparedStored = (p: PreparedCreate): StoredResource => storedVersion(p.resource.resourceType, p.id, 1, p.lastUpdated, p.json)

/** Inserts prepared creates in one statement (bulk-sql.ts); an item whose id was taken fails alone. */
export async function insertPrepared(db: Kysely<Database>, tenantId: string, items: readonly PreparedCreate[]): Promise<BulkWriteOutcome[]> {
  const rows = new BulkRows()
  for (const p of items) rows.add({ type: p.resource.resourceType, id: p.id, version: 1, lastUpdated: p.lastUpdated, method: 'POST', content: p.json, index: p.index })
  const written = await insertResources(db, tenantId, rows)
  return items.map((p) => {
    const ref = `${p.resource.resourceType}/${p.id}`
    return written.has(ref) ? { status: 'created', stored: preparedStored(p), resource: p.resource } : { status: 'failed', error: idTaken(ref) }
  })
}
