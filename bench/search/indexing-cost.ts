/**
 * What indexing adds to a create (issue 3 item 7: "indexing at most doubles the cost of a create"):
 * the repository's write path for a new Observation — stamp meta, validate, serialise, extract the
 * index rows (prepared-create.ts, as each create arrives), write resource + history + index rows —
 * against the same path without index rows (`indexing: false`, as bench/server-unindexed.ts).
 * Measured in this process on the bench database, in a scratch tenant removed afterwards,
 * alternating blocks of both so drift on the machine hits both.
 *
 * Two write paths, as the server has them (pg-repository.ts `create`):
 * - `grouped`: plain creates go through a CreateCoalescer, as every POST without a client id does:
 *   alone when nothing waits (one INSERT statement, ResourceStore.insertNew), else with the creates
 *   that queued meanwhile in one multi-row statement (bulk-sql.ts insertResources). This is the
 *   cost of a create the server pays, and the figure the target is read from.
 * - `alone`: every create its own statement and transaction, the path of a create with a client id
 *   (update-as-create); at c=16 that is 16 concurrent commits, which the server spares POSTs.
 */
import { performance } from 'node:perf_hooks'
import { sql } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import { createDb } from '../../src/db/connect.js'
import { r4SearchParamRegistry } from '../../src/resources/indexing/registry.js'
import type { SearchConfig } from '../../src/resources/indexing/resource-indexer.js'
import { CreateCoalescer } from '../../src/resources/create-coalescer.js'
import { insertPrepared, prepareCreate, preparedStored, type PreparedCreate } from '../../src/resources/prepared-create.js'
import { newResourceId } from '../../src/resources/resource-id.js'
import { ResourceStore } from '../../src/resources/resource-store.js'
import type { WriteResult } from '../../src/resources/types.js'
import { INDEX_TABLE_NAMES } from './bulk-insert.js'
import { generateTenant } from './generate.js'

export type WritePath = 'grouped' | 'alone'

export interface IndexingCost {
  path: WritePath
  concurrency: number
  creates: number
  /** Mean wall-clock ms per create (c=1) or per create at the given concurrency (ms / throughput). */
  withIndexMs: number
  withoutIndexMs: number
  /** Mean index rows written per Observation. */
  indexRows: number
  ratio: number
}

const TENANT = 'bench-indexing-cost'
const BLOCK = 50

export async function measureIndexingCost(databaseUrl: string, serverUrl: string, creates: number, concurrency: number, path: WritePath): Promise<IndexingCost> {
  const { db, close } = await createDb({ databaseUrl, dataDir: '', poolSize: Math.max(1, Math.min(concurrency, 10)) })
  const store = new ResourceStore(db)
  const config: SearchConfig = { registry: r4SearchParamRegistry(), serverUrl }
  const observations: Resource[] = []
  for (const r of generateTenant(777)) {
    if (r.resourceType === 'Observation') observations.push(r)
    if (observations.length >= creates * 2) break
  }
  const configs = new Map([true, false].map((withIndex) => [withIndex, { ...config, indexing: withIndex }]))
  let indexRows = 0
  /**
   * What the repository does with a POST before it reaches a writer (pg-repository.ts `create`):
   * stamp, validate, serialise and (withIndex) extract the index rows, as the create arrives. The
   * writers only send prepared creates; extracting inside the writer, as this bench did before,
   * held the tenant's writer idle while a batch of 15 was extracted one after another.
   */
  const prepare = (source: Resource, withIndex: boolean): PreparedCreate => {
    const prepared = prepareCreate(configs.get(withIndex)!, TENANT, source, new Date())
    indexRows += prepared.index.count
    return prepared
  }
  const writeAlone = async (_tenant: string, p: PreparedCreate): Promise<WriteResult> => {
    const ok = await store.insertNew({ tenantId: TENANT, resourceType: p.resource.resourceType, id: p.id, versionId: 1, lastUpdated: p.lastUpdated, deleted: false, method: 'POST', json: p.json, index: p.index })
    if (!ok) throw new Error('indexing-cost: insert refused')
    return { stored: preparedStored(p), created: true }
  }
  const writeBatch = async (_tenant: string, items: readonly PreparedCreate[]) => {
    const outcomes = await insertPrepared(db, TENANT, items)
    if (outcomes.some((o) => o.status === 'failed')) throw new Error('indexing-cost: batch insert refused')
    return outcomes
  }
  const coalescers = new Map([true, false].map((withIndex) => [withIndex, new CreateCoalescer<PreparedCreate>(writeAlone, writeBatch)]))
  let next = 0
  const createOne = async (withIndex: boolean) => {
    const prepared = prepare(observations[next++ % observations.length]!, withIndex)
    if (path === 'grouped') await coalescers.get(withIndex)!.create(TENANT, prepared)
    else await writeAlone(TENANT, prepared)
  }
  const block = async (withIndex: boolean) => {
    let left = BLOCK
    const t0 = performance.now()
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await createOne(withIndex)
    }))
    return performance.now() - t0
  }
  try {
    await sql`INSERT INTO tenant (tenant_id, name, organization_id) VALUES (${TENANT}, 'indexing cost', ${newResourceId()}) ON CONFLICT DO NOTHING`.execute(db)
    for (let i = 0; i < 4; i++) await block(i % 2 === 0) // warm-up: plans, caches, JIT
    const time = { with: 0, without: 0 }
    indexRows = 0
    let indexedCreates = 0
    for (let done = 0; done < creates; done += BLOCK) {
      const order = (done / BLOCK) % 2 === 0 ? [true, false] : [false, true]
      for (const withIndex of order) {
        const ms = await block(withIndex)
        if (withIndex) {
          time.with += ms
          indexedCreates += BLOCK
        } else time.without += ms
      }
    }
    const withIndexMs = time.with / indexedCreates
    const withoutIndexMs = time.without / indexedCreates
    return { path, concurrency, creates: indexedCreates, withIndexMs, withoutIndexMs, indexRows: indexRows / indexedCreates, ratio: withIndexMs / withoutIndexMs }
  } finally {
    // resource_live_count last: deleting the resource rows added rows of its own (the triggers).
    for (const table of ['resource', 'resource_history', ...INDEX_TABLE_NAMES, 'resource_live_count']) await sql`DELETE FROM ${sql.table(table)} WHERE tenant_id = ${TENANT}`.execute(db)
    await sql`DELETE FROM tenant WHERE tenant_id = ${TENANT}`.execute(db)
    await close()
  }
}
