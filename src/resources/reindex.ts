import type { Kysely } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import type { Database } from '../db/database.js'
import { extractIndexRows } from './indexing/extract.js'
import { localBaseOf, type SearchConfig } from './indexing/resource-indexer.js'
import { BatchIndexRows, countCurrent, readBatch, replaceBatch } from './reindex-sql.js'

/** Resources per read + replace statement: the index rows of 500 resources are ~10-30k array elements. */
export const REINDEX_BATCH_SIZE = 500

/** What to reindex: the tenant's current resources of `types`, or of every type it has. */
export interface ReindexRequest {
  readonly types?: readonly string[]
  readonly batchSize?: number
  /** Checked before each batch: an aborted walk stops there and reports `cancelled`. */
  readonly signal?: AbortSignal
  /** Called after each batch. */
  readonly onProgress?: (progress: ReindexProgress) => void
}

export interface ReindexProgress {
  /** Resources walked so far (reindexed + skipped). */
  readonly done: number
  /** Current resources when the walk started (resources created meanwhile may make `done` pass it). */
  readonly total: number
  /** The type being walked. */
  readonly resourceType?: string
}

export interface ReindexResult extends ReindexProgress {
  /** Resources whose index rows were replaced. */
  readonly reindexed: number
  /** Resources written by someone else during the walk: they already carry their newest version's rows. */
  readonly skipped: number
  readonly cancelled: boolean
  /** Per type: resources reindexed. */
  readonly byType: Readonly<Record<string, number>>
}

/**
 * The $reindex engine: walks the tenant's current resources type by type in primary-key keyset
 * batches, recomputes each one's index rows with the tenant's parameters in force (read again per
 * batch, so a SearchParameter changed mid-walk applies to the rest), and replaces them with one
 * statement per batch, version-checked (reindex-sql.ts `replaceBatch`): a resource updated during
 * the walk keeps the rows of its newest version. Index rows of parameters no longer in force are
 * dropped on the way. Other tenants' rows are never read or written (every statement keys on the tenant).
 */
export async function reindexResources(
  db: Kysely<Database>,
  searchFor: () => Promise<SearchConfig>,
  tenantId: string,
  request: ReindexRequest = {},
): Promise<ReindexResult> {
  const batchSize = Math.max(1, Math.min(request.batchSize ?? REINDEX_BATCH_SIZE, 5000))
  const counts = await countCurrent(db, tenantId, request.types)
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  const byType: Record<string, number> = {}
  let reindexed = 0
  let skipped = 0
  const result = (cancelled: boolean, resourceType?: string): ReindexResult => ({ done: reindexed + skipped, total, resourceType, reindexed, skipped, cancelled, byType })
  for (const resourceType of counts.keys()) {
    byType[resourceType] = 0
    let after = ''
    for (;;) {
      if (request.signal?.aborted) return result(true, resourceType)
      const walked = await readBatch(db, tenantId, resourceType, after, batchSize)
      if (!walked.length) break
      after = walked[walked.length - 1]!.id
      const search = await searchFor()
      const params = search.registry.forType(resourceType)
      const ctx = { localBase: localBaseOf(search, tenantId), registry: search.registry }
      const rows = new BatchIndexRows()
      for (const row of walked) rows.add(row.id, extractIndexRows(params, JSON.parse(row.json) as Resource, ctx))
      const replaced = await replaceBatch(db, tenantId, resourceType, walked, rows)
      reindexed += replaced.size
      skipped += walked.length - replaced.size
      byType[resourceType] += replaced.size
      request.onProgress?.(result(false, resourceType))
      if (walked.length < batchSize) break
    }
  }
  return result(false)
}
