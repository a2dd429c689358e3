/**
 * What indexing adds to a create (issue 3 item 7: "indexing at most doubles the cost of a create"):
 * the repository's write path for a new Observation — stamp meta, serialise, extract the index rows,
 * one INSERT statement of resource + history + index rows (ResourceStore.insertNew) — against the
 * same statement shape without index rows. Measured in this process on the bench database, in a
 * scratch tenant removed afterwards, alternating blocks of both so drift on the machine hits both.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { sql } from 'kysely'
import type { Resource } from '@medplum/fhirtypes'
import { createDb } from '../../src/db/connect.js'
import { r4SearchParamRegistry } from '../../src/resources/indexing/registry.js'
import { indexRowsFor, type SearchConfig } from '../../src/resources/indexing/resource-indexer.js'
import { ResourceStore } from '../../src/resources/resource-store.js'
import { stampMeta } from '../../src/resources/versioning.js'
import { INDEX_TABLE_NAMES } from './bulk-insert.js'
import { generateTenant } from './generate.js'

export interface IndexingCost {
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

export async function measureIndexingCost(databaseUrl: string, serverUrl: string, creates: number, concurrency: number): Promise<IndexingCost> {
  const { db, close } = await createDb({ databaseUrl, dataDir: '', poolSize: Math.max(1, Math.min(concurrency, 10)) })
  const store = new ResourceStore(db)
  const config: SearchConfig = { registry: r4SearchParamRegistry(), serverUrl }
  const observations: Resource[] = []
  for (const r of generateTenant(777)) {
    if (r.resourceType === 'Observation') observations.push(r)
    if (observations.length >= creates * 2) break
  }
  let next = 0
  let indexRows = 0
  const createOne = async (withIndex: boolean) => {
    const source = observations[next++ % observations.length]!
    const id = randomUUID()
    const lastUpdated = new Date()
    const stamped = stampMeta(source, id, 1, lastUpdated)
    const json = JSON.stringify(stamped)
    const index = withIndex ? indexRowsFor(config, TENANT, stamped) : undefined
    if (index) indexRows += index.count
    const ok = await store.insertNew({ tenantId: TENANT, resourceType: 'Observation', id, versionId: 1, lastUpdated, deleted: false, method: 'POST', json, index })
    if (!ok) throw new Error('indexing-cost: insert refused')
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
    await sql`INSERT INTO tenant (tenant_id, name, organization_id) VALUES (${TENANT}, 'indexing cost', ${randomUUID()}) ON CONFLICT DO NOTHING`.execute(db)
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
    return { concurrency, creates: indexedCreates, withIndexMs, withoutIndexMs, indexRows: indexRows / indexedCreates, ratio: withIndexMs / withoutIndexMs }
  } finally {
    for (const table of ['resource', 'resource_history', ...INDEX_TABLE_NAMES]) await sql`DELETE FROM ${sql.table(table)} WHERE tenant_id = ${TENANT}`.execute(db)
    await sql`DELETE FROM tenant WHERE tenant_id = ${TENANT}`.execute(db)
    await close()
  }
}
