import type { Observation, Resource } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { r4SearchParamRegistry, type RequestScope } from '../../../src/resources/index.js'
import { parseSearchRequest, planSearch } from '../../../src/resources/search/index.js'
import { compileContainedPageQuery } from '../../../src/resources/search/contained-compile.js'
import { containedPatient, observationWith } from './contained-fixture.js'
import { matchIds, openSearchFixture, search, seed, type SearchFixture } from './search-fixture.js'

/**
 * The index rows of contained resources (src/resources/indexing/contained.ts): written under the
 * container's key by every write path, gone with the container's other rows, and free for a
 * resource without `contained`. Repository level, to see the rows and the SQL.
 */
describe('indexing: contained resources', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const markers = async (scope: RequestScope) => {
    const { rows } = await sql<{ id: string; param: string; code: string; ord: number }>`SELECT id, param, code, ord FROM search_token
      WHERE tenant_id = ${scope.tenantId} AND param LIKE '%#' ORDER BY id, ord`.execute(f.db.db)
    return rows.map((r) => `${r.id}:${r.param}${r.code}@${r.ord}`)
  }
  const containedRows = async (scope: RequestScope) => {
    const tables = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri', 'search_sort', 'search_text']
    let n = 0
    for (const table of tables) {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE tenant_id = ${scope.tenantId} AND param LIKE '%#%' AND param NOT LIKE '%#_'`.execute(f.db.db)
      n += rows[0]!.n
    }
    return n
  }
  const obs = (family: string) => observationWith(containedPatient('p1', family), { practitioner: { resourceType: 'Practitioner', id: 'pr', name: [{ family }] } as Resource })

  it('writes a marker and the parameter rows of each contained resource on create, and none for a resource without', async () => {
    const scope = await f.newTenant()
    const [id] = await seed(f.repo, scope, [obs('Taylor'), { resourceType: 'Observation', status: 'final', code: { text: 'x' } } as Observation])
    expect(await markers(scope)).toEqual([`${id}:Patient#p1@0`, `${id}:Practitioner#pr@1`])
    const { rows } = await sql<{ param: string; value: string; ord: number }>`SELECT param, value, ord FROM search_string
      WHERE tenant_id = ${scope.tenantId} AND id = ${id!} AND param IN ('Patient#family', 'Practitioner#family') ORDER BY param`.execute(f.db.db)
    expect(rows).toEqual([{ param: 'Patient#family', value: 'taylor', ord: 0 }, { param: 'Practitioner#family', value: 'taylor', ord: 1 }])
    const { rows: refs } = await sql<{ ref_type: string; ref_id: string }>`SELECT ref_type, ref_id FROM search_reference
      WHERE tenant_id = ${scope.tenantId} AND id = ${id!} AND param = 'subject'`.execute(f.db.db)
    expect(refs).toEqual([{ ref_type: 'Patient', ref_id: '#p1' }])
  })

  it('replaces them on update, patch and bulk update, and deletes them with the container', async () => {
    const scope = await f.newTenant()
    const [id] = await seed(f.repo, scope, [obs('Taylor')])
    const before = await containedRows(scope)
    expect(before).toBeGreaterThan(0)
    await f.repo.update(scope, { ...obs('Jones'), id } as Observation)
    expect(await containedRows(scope)).toBe(before)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=Jones&_contained=true')).toEqual([id])
    expect(await matchIds(f.repo, scope, 'Patient', 'family=Taylor&_contained=true')).toEqual([])
    await f.repo.patch(scope, 'Observation', id!, { kind: 'json-patch', operations: [{ op: 'remove', path: '/contained/1' }, { op: 'remove', path: '/performer' }] })
    expect(await markers(scope)).toEqual([`${id}:Patient#p1@0`])
    const [outcome] = await f.repo.writeMany(scope, [{ mode: 'put', resource: { ...obs('Bulk'), id } as Observation }])
    expect(outcome?.status).toBe('updated')
    expect(await matchIds(f.repo, scope, 'Practitioner', 'family=Bulk&_contained=true')).toEqual([id])
    await f.repo.delete(scope, 'Observation', id!)
    expect(await markers(scope)).toEqual([])
    expect(await containedRows(scope)).toBe(0)
  })

  it('writes them through bulk creates and transactions, and $reindex restores them', async () => {
    const scope = await f.newTenant()
    const outcomes = await f.repo.writeMany(scope, [{ mode: 'create', resource: obs('Bulk') }, { mode: 'create', resource: obs('Bulk') }])
    const inTx = await f.repo.transaction(scope, (tx) => tx.create(scope, obs('Bulk')))
    const ids = [...outcomes.map((o) => (o.status === 'failed' ? '' : o.stored.id)), inTx.stored.id].sort()
    expect(await matchIds(f.repo, scope, 'Patient', 'family=Bulk&_contained=true')).toEqual(ids)
    await sql`DELETE FROM search_token WHERE tenant_id = ${scope.tenantId} AND param LIKE '%#'`.execute(f.db.db)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=Bulk&_contained=true')).toEqual([])
    const result = await f.repo.reindex(scope, { types: ['Observation'] })
    expect(result.reindexed).toBe(3)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=Bulk&_contained=true')).toEqual(ids)
  })

  it('adds no contained branch to a chain in a tenant holding no contained resource of its target type', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [{ resourceType: 'Practitioner', id: 'x', name: [{ family: 'N' }] }], performer: [{ reference: '#x' }] } as Observation,
    ])
    f.statements.length = 0
    await search(f.repo, scope, 'Observation', 'subject:Patient.name=Taylor')
    // Every statement that follows the chain (its count, its page), however the engine builds them.
    const chain = () => f.statements.filter((s) => s.includes('search_reference')).join('\n')
    expect(chain()).toMatch(/search_reference/)
    expect(chain()).not.toMatch(/'#' \|\|/)
    f.statements.length = 0
    await search(f.repo, scope, 'Observation', 'performer:Practitioner.name=N')
    expect(chain()).toMatch(/'#' \|\|/)
  })

  it('finds the marker rows of a contained search through the search_token lookup index', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [obs('Taylor')])
    // A tenant's worth of other token rows, so that the planner weighs the indexes as it would in use.
    await sql`INSERT INTO search_token (tenant_id, resource_type, id, param, ord, system, code, pkey)
      SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${scope.tenantId}, 'Observation', 'o' || g, 'code', 0, 'http://loinc.org', (g % 500)::text FROM generate_series(1, 100000) g) q(tenant_id, resource_type, id, param, ord, system, code)`.execute(f.db.db)
    // ...and of string rows: with a nearly empty search_string (a fresh PGlite) a scan of it is the right plan.
    await sql`INSERT INTO search_string (tenant_id, resource_type, id, param, ord, value, exact, pkey)
      SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${scope.tenantId}, 'Patient', 'p' || g, 'family', 0, 'f' || (g % 5000)::text, 'F' || (g % 5000)::text FROM generate_series(1, 100000) g) q(tenant_id, resource_type, id, param, ord, value, exact)`.execute(f.db.db)
    await sql`ANALYZE search_token, search_string`.execute(f.db.db)
    const registry = r4SearchParamRegistry()
    const explain = async (q: string) => {
      const request = parseSearchRequest(registry.forType('Patient'), [...new URLSearchParams(q)], { now: new Date(), registry })
      const query = compileContainedPageQuery(planSearch(scope.tenantId, request), { direction: 'after', limit: 21 }).compile(f.db.db)
      const { rows } = await f.db.db.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `EXPLAIN ${query.sql}` })
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    }
    // Alone, the markers come from the lookup index: one range per container type, by the key of
    // (tenant, type, 'Patient#'), as an index scan or (the freshly inserted rows not yet
    // all-visible) a bitmap index scan.
    const markersOnly = await explain('_contained=true')
    expect(markersOnly).toMatch(
      /(Index (Only )?Scan using search_token_lookup on search_token m|Bitmap Index Scan on search_token_lookup)[^\n]*\n\s+Index Cond: \(pkey = ANY /,
    )
    // With a criterion, whichever side is narrower drives; the marker is still an index probe.
    const withCriterion = await explain('family=Taylor&_contained=true')
    expect(withCriterion).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) search_token_(lookup|resource)( on search_token m)?[^\n]*\n\s+Index Cond: \((pkey = ANY|id = )/)
    for (const plan of [markersOnly, withCriterion]) expect(plan).not.toMatch(/Seq Scan on search_(token|string)/)
    await sql`DELETE FROM search_token WHERE tenant_id = ${scope.tenantId} AND param = 'code'`.execute(f.db.db)
    await sql`DELETE FROM search_string WHERE tenant_id = ${scope.tenantId} AND param = 'family'`.execute(f.db.db)
  })
})
