import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CompiledQuery, sql } from 'kysely'
import type { Observation } from '@medplum/fhirtypes'
import type { Db } from '../../../src/db/connect.js'
import { parseDateRange } from '../../../src/resources/dates.js'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type Repository, type RequestScope } from '../../../src/resources/index.js'
import { freshTenantId, openTestDb } from '../../setup/db.js'
import { matchIds, seed } from './search-fixture.js'

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const
type Prefix = (typeof PREFIXES)[number]

/** The spec's sentence for each prefix on ranges (https://hl7.org/fhir/R4/search.html#prefix), as an oracle. */
function oracle(prefix: Prefix, [low, high]: [number, number], [s, e]: [number, number]): boolean {
  const contained = low >= s && high <= e
  switch (prefix) {
    case 'eq': return contained
    case 'ne': return !contained
    case 'gt': return high > e
    case 'lt': return low < s
    case 'ge': return high > e || contained
    case 'le': return low < s || contained
    case 'sa': return low >= e
    case 'eb': return high <= s
  }
}

const range = (text: string): [number, number] => {
  const r = parseDateRange(text, 'date')
  return [r.start.getTime(), r.end.getTime()]
}

/**
 * Date prefixes keep the spec's range semantics and scan a bounded index range
 * (0008_search_gaps.sql adds search_date_high; params/date.ts adds the implied range conjunct).
 */
describe('search: date ranges', () => {
  const captured: CompiledQuery[] = []
  let db: Db
  let repo: Repository
  beforeAll(async () => {
    loadFhirDefinitions()
    db = await openTestDb({ onQuery: (e) => void (e.level === 'query' && captured.push(e.query)) })
    repo = createPgRepository({ db: db.db, serverUrl: 'http://fhir.test' })
  })
  afterAll(() => db?.close())

  const newTenant = async (): Promise<RequestScope> => {
    const tenantId = freshTenantId('dates')
    await createTenantStore(db.db, repo).ensure(tenantId, 'Date clinic')
    return { tenantId }
  }

  // Stored values of every precision, Periods open and closed.
  const stored: { effective: Pick<Observation, 'effectiveDateTime' | 'effectivePeriod'>; range: [number, number] }[] = [
    { effective: { effectiveDateTime: '2019' }, range: range('2019') },
    { effective: { effectiveDateTime: '2020-01' }, range: range('2020-01') },
    { effective: { effectiveDateTime: '2020-06-15' }, range: range('2020-06-15') },
    { effective: { effectiveDateTime: '2020-12-31T23:59:59Z' }, range: [range('2020-12-31T23:59:59Z')[0], range('2020-12-31T23:59:59Z')[1]] },
    { effective: { effectiveDateTime: '2021-01-01' }, range: range('2021-01-01') },
    { effective: { effectivePeriod: { start: '2019-12-01', end: '2020-02-01' } }, range: [range('2019-12-01')[0], range('2020-02-01')[1]] },
    { effective: { effectivePeriod: { start: '2020-03-01' } }, range: [range('2020-03-01')[0], Infinity] },
    { effective: { effectivePeriod: { end: '2020-03-01' } }, range: [-Infinity, range('2020-03-01')[1]] },
    { effective: { effectiveDateTime: '2022-05-05' }, range: range('2022-05-05') },
  ]
  const observation = (effective: Pick<Observation, 'effectiveDateTime' | 'effectivePeriod'>): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    ...effective,
  })

  it('answers every prefix as the spec defines it on ranges, for several search precisions', async () => {
    const scope = await newTenant()
    const ids = await seed(repo, scope, stored.map((s) => observation(s.effective)))
    // Another clinic's matching row and a deleted one never match.
    await seed(repo, await newTenant(), [observation({ effectiveDateTime: '2020-06-15' })])
    const [gone] = await seed(repo, scope, [observation({ effectiveDateTime: '2020-06-15' })])
    await repo.delete(scope, 'Observation', gone!)
    for (const value of ['2020', '2020-06', '2020-06-15', '2020-01-01T00:00:00Z']) {
      for (const prefix of PREFIXES) {
        const expected = ids.filter((_, i) => oracle(prefix, stored[i]!.range, range(value))).sort()
        expect(await matchIds(repo, scope, 'Observation', `date=${prefix}${encodeURIComponent(value)}`), `${prefix}${value}`).toEqual(expected)
      }
    }
    const year = ids.filter((_, i) => oracle('ge', stored[i]!.range, range('2020-01-01')) && oracle('lt', stored[i]!.range, range('2021-01-01'))).sort()
    expect(await matchIds(repo, scope, 'Observation', 'date=ge2020-01-01&date=lt2021-01-01')).toEqual(year)
  })

  it.skipIf(inject('isEmbeddedDatabase'))('scans a bounded range of a date index for ge, gt, le, lt and eq on PostgreSQL', async () => {
    const scope = await newTenant()
    const other = await newTenant()
    // Several thousand dated Observations (this clinic and another), written with SQL, then ANALYZEd.
    for (const [tenantId, n] of [[scope.tenantId, 4000], [other.tenantId, 20000]] as const) {
      await sql`INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, content)
        SELECT ${tenantId}, 'Observation', 'o' || g, 1, now(), '{}' FROM generate_series(1, ${n}) g`.execute(db.db)
      await sql`INSERT INTO search_date (tenant_id, resource_type, id, param, low, high, pkey)
        SELECT q.*, search_key(q.tenant_id, q.resource_type, q.param) FROM (SELECT ${tenantId}, 'Observation', 'o' || g, 'date', t, t + interval '1 day'
        FROM generate_series(1, ${n}) g, LATERAL (SELECT timestamptz '2012-01-01' + g * (interval '14 years' / ${n}) AS t) d) q(tenant_id, resource_type, id, param, low, high)`.execute(db.db)
    }
    await sql`ANALYZE search_date`.execute(db.db)
    await sql`ANALYZE resource`.execute(db.db)
    // The count of every match (no LIMIT, so no walk in id order can stand in for the date index).
    const planOf = async (query: string) => {
      captured.length = 0
      await repo.search(scope, { resourceType: 'Observation', params: [...new URLSearchParams(`${query}&_summary=count`)] })
      const page = captured.find((q) => /^\s*select count/i.test(q.sql) && q.sql.includes('search_date'))!
      const { rows } = await db.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${page.sql}`, [...page.parameters]))
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    }
    const geLt = await planOf('date=ge2020-01-01&date=lt2021-01-01')
    // Either bound may drive (which one depends on statistics other test files move): each is a range.
    expect(geLt, geLt).toMatch(/search_date_high[^\n]*\n[^\n]*Index Cond: \(\(pkey = [^\n]*\(high > |search_date_lookup[^\n]*\n[^\n]*Index Cond: \(\(pkey = [^\n]*\(low < /)
    expect(geLt, geLt).not.toMatch(/Seq Scan on search_date/)
    for (const [query, index, bound] of [
      ['date=gt2025-01-01', 'search_date_high', /\(high > /],
      ['date=ge2025-01-01', 'search_date_high', /\(high > /],
      ['date=lt2013-01-01', 'search_date_lookup', /\(low < /],
      ['date=le2013-01-01', 'search_date_lookup', /\(low < /],
      ['date=2020-06-15', 'search_date_lookup', /\(low >= [^\n]*\(low < /],
    ] as const) {
      const plan = await planOf(query)
      const at = plan.indexOf(index)
      expect(at, plan).toBeGreaterThan(-1)
      expect(plan.slice(at).split('\n')[1], plan).toMatch(bound)
    }
  }, 120_000)
})
