import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import type { Observation, Patient } from '@medplum/fhirtypes'
import { foldLiveCounts } from '../../../src/resources/search/live-count.js'
import type { RequestScope } from '../../../src/resources/index.js'
import { openSearchFixture, search, seed, type SearchFixture } from './search-fixture.js'

/**
 * The count of a search without filters (`Observation?_total=accurate`, `_summary=count`,
 * `_total=estimate`, and at system level) is the sum of resource_live_count, which triggers raise
 * and lower in the transaction of every change of the live set
 * (migrations/0015_live_count_deltas.sql; src/resources/search/live-count.ts). Every expected count here is `count(*)` of the live rows.
 */
describe('search: the live count of a whole type', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const obs = (text: string): Observation => ({ resourceType: 'Observation', status: 'final', code: { text } })
  const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] })
  const counted = async (scope: RequestScope, type: string) => {
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM resource WHERE tenant_id = ${scope.tenantId} AND resource_type = ${type} AND NOT deleted`.execute(f.db.db)
    return Number(rows[0]!.n)
  }
  const countRows = async (scope: RequestScope) => {
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM resource_live_count WHERE tenant_id = ${scope.tenantId}`.execute(f.db.db)
    return Number(rows[0]!.n)
  }
  /** `_summary=count` and `_total=accurate` past a first page (which counts), both checked against count(*). */
  const expectCount = async (scope: RequestScope, type: string, expected: number) => {
    expect(await counted(scope, type)).toBe(expected)
    expect((await search(f.repo, scope, type, '_summary=count')).total).toBe(expected)
    const page = await search(f.repo, scope, type, '_count=1&_total=accurate')
    expect(page.total).toBe(expected)
    // An estimate of a whole type is the same sum: exact, and no dearer than the planner's guess.
    expect((await search(f.repo, scope, type, '_count=1&_total=estimate')).total).toBe(expected)
  }
  const system = (scope: RequestScope, query: string) => f.repo.searchSystem(scope, { params: [...new URLSearchParams(query)] })

  it('follows every change of the live set, whichever path wrote it, per tenant', async () => {
    const [a, b] = [await f.newTenant(), await f.newTenant()]
    const ids = await seed(f.repo, a, [obs('1'), obs('2'), obs('3'), patient('Pérez')])
    await seed(f.repo, b, [obs('b1'), obs('b2')])
    f.statements.length = 0
    await expectCount(a, 'Observation', 3)
    await expectCount(b, 'Observation', 2)
    // The counts came from the sums: no statement counted the resource rows.
    expect(f.statements.filter((s) => /count\(\*\) AS n FROM resource r\b/.test(s))).toEqual([])
    expect(f.statements.some((s) => s.includes('FROM resource_live_count'))).toBe(true)

    await f.repo.delete(a, 'Observation', ids[0]!)
    await expectCount(a, 'Observation', 2)
    // Deleting a deleted resource changes nothing.
    await f.repo.delete(a, 'Observation', ids[0]!)
    await expectCount(a, 'Observation', 2)
    // An update brings it back.
    await f.repo.update(a, { ...obs('back'), id: ids[0]! })
    await expectCount(a, 'Observation', 3)
    // An update of a live resource adds no row.
    const rows = await countRows(a)
    await f.repo.update(a, { ...obs('2 again'), id: ids[1]! })
    await f.repo.patch(a, 'Observation', ids[2]!, { kind: 'json-patch', operations: [{ op: 'replace', path: '/status', value: 'amended' }] })
    expect(await countRows(a)).toBe(rows)
    await expectCount(a, 'Observation', 3)

    // Bundles and imports (the bulk path): creates, update-as-create, an update of a live one.
    await f.repo.writeMany(a, [
      { mode: 'create', resource: obs('bulk 1') },
      { mode: 'create', resource: obs('bulk 2') },
      { mode: 'put', resource: { ...obs('put new'), id: 'put-new' } },
      { mode: 'put', resource: { ...obs('put old'), id: ids[1]! } },
    ])
    await expectCount(a, 'Observation', 6)
    // $reindex deletes and re-inserts each row it rewrites.
    await f.repo.reindex(a, { types: ['Observation'] })
    await expectCount(a, 'Observation', 6)
    await expectCount(a, 'Patient', 1)

    // The other tenant, both ways.
    await expectCount(b, 'Observation', 2)
    await f.repo.delete(b, 'Observation', (await search(f.repo, b, 'Observation', '')).entries[0]!.id)
    await expectCount(b, 'Observation', 1)
    await expectCount(a, 'Observation', 6)

    // System level: every type of the tenant (its Organization too), or the `_type` list.
    expect((await system(a, '_summary=count')).total).toBe(7 + (await counted(a, 'Organization')))
    expect((await system(a, '_summary=count&_type=Patient,Observation')).total).toBe(7)
    expect((await system(a, '_summary=count&_type=Patient')).total).toBe(1)
    expect((await system(b, '_summary=count')).total).toBe(1 + (await counted(b, 'Organization')))
    expect(await counted(b, 'Organization')).toBe(1)
    // With a filter the count is a count of the matches.
    expect((await search(f.repo, a, 'Observation', '_summary=count&status=amended')).total).toBe(1)
  })

  it('folds its rows into one per type when they pile up, and stays exact', async () => {
    const scope = await f.newTenant()
    // The tenant's Organization (tenants.ts) has its row.
    const before = await countRows(scope)
    for (let i = 0; i < 70; i++) await f.repo.create(scope, obs(`o${i}`))
    await seed(f.repo, scope, [patient('García')])
    expect(await countRows(scope)).toBe(before + 71)
    await expectCount(scope, 'Observation', 70)
    // The read that found 70 rows folded the Observation rows; the Patient's stays.
    expect(await countRows(scope)).toBe(before + 2)
    await expectCount(scope, 'Observation', 70)
    await expectCount(scope, 'Patient', 1)
    // Creates and deletes that cancel out fold into nothing.
    const extra = await seed(f.repo, scope, [patient('a'), patient('b')])
    for (const id of extra) await f.repo.delete(scope, 'Patient', id)
    await foldLiveCounts(f.db.db, scope.tenantId, 'all')
    expect(await countRows(scope)).toBe(3)
    await expectCount(scope, 'Patient', 1)
  })

  it('counts parallel creates exactly', async () => {
    const scope = await f.newTenant()
    await Promise.all(Array.from({ length: 20 }, (_, i) => f.repo.create(scope, obs(`p${i}`))))
    await expectCount(scope, 'Observation', 20)
  })

  // PostgreSQL only: embedded PGlite runs one transaction at a time, so the two cannot both be open.
  it.skipIf(inject('isEmbeddedDatabase'))('lets a reader fold past another fold still open, and each reader sees its own snapshot', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [obs('1'), obs('2')])
    await f.db.db.transaction().execute(async (trx) => {
      await foldLiveCounts(trx, scope.tenantId, 'all')
      // Outside, the fold holds nothing this one locked: it returns at once, and the sum is unchanged.
      await foldLiveCounts(f.db.db, scope.tenantId, 'all')
      await expectCount(scope, 'Observation', 2)
    })
    await expectCount(scope, 'Observation', 2)
  })

  it('equals count(*) for every tenant and type the suite has written, in one snapshot', async () => {
    const { rows } = await sql<{ tenant_id: string; resource_type: string; live: string | null; summed: string | null }>`
      SELECT coalesce(c.tenant_id, s.tenant_id) AS tenant_id, coalesce(c.resource_type, s.resource_type) AS resource_type, c.live, s.summed
      FROM (SELECT tenant_id, resource_type, count(*) AS live FROM resource WHERE NOT deleted GROUP BY 1, 2) c
      FULL JOIN (SELECT tenant_id, resource_type, sum(n) AS summed FROM resource_live_count GROUP BY 1, 2) s USING (tenant_id, resource_type)
      WHERE coalesce(s.summed, 0) <> coalesce(c.live, 0)`.execute(f.db.db)
    expect(rows).toEqual([])
    const { rows: total } = await sql<{ n: string }>`SELECT count(*) AS n FROM resource WHERE NOT deleted`.execute(f.db.db)
    expect(Number(total[0]!.n)).toBeGreaterThan(0)
  })
})
