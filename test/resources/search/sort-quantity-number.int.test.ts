import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, ObservationComponent, Quantity, RiskAssessment } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { r4SearchParamRegistry, type RequestScope, type SearchPage } from '../../../src/resources/index.js'
import { compilePageQuery, parseSearchRequest, planSearch } from '../../../src/resources/search/index.js'
import { expectWalksBack, openSearchFixture, walkPages, search, seed, type SearchFixture } from './search-fixture.js'

const UCUM = 'http://unitsofmeasure.org'
const LOINC = 'http://loinc.org'

/**
 * `_sort` by quantity and number parameters (https://hl7.org/fhir/R4/search.html#sort): the key is
 * read from search_quantity / search_number at query time (the smallest low ascending, the largest
 * high descending, of the values as written), not from search_sort rows. The orders below are the
 * ones search_sort's numberSortKey gave.
 */
describe('search: _sort by quantity and number parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const ucum = (value: number, code: string, comparator?: Quantity['comparator']): Quantity => ({ value, unit: code, system: UCUM, code, ...(comparator ? { comparator } : {}) })
  const obs = (o: { value?: Quantity; date?: string; components?: Quantity[] }): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '29463-7' }] },
    ...(o.value ? { valueQuantity: o.value } : { dataAbsentReason: { text: 'not measured' } }),
    ...(o.date ? { effectiveDateTime: o.date } : {}),
    ...(o.components ? { component: o.components.map((q): ObservationComponent => ({ code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: q })) } : {}),
  })
  /**
   * Keys as written (the UCUM canonical twin never counts: 1500 g sorts after 70 kg), ascending /
   * descending: 70/70, 1500/1500, -inf/5, 200/+inf, none, 70/70, -3/-3, 0.5/0.5, 70/70, -20/-20.
   */
  const OBSERVATIONS = [
    obs({ value: ucum(70, 'kg'), date: '2024-01-01' }),
    obs({ value: ucum(1500, 'g'), date: '2024-01-01' }),
    obs({ value: ucum(5, 'mg', '<'), date: '2023-05-01' }),
    obs({ value: ucum(200, 'mm[Hg]', '>'), date: '2024-01-01' }),
    obs({ date: '2024-01-01' }),
    obs({ value: ucum(70, 'kg'), date: '2024-03-01' }),
    obs({ value: ucum(-3, 'Cel') }),
    obs({ value: { value: 0.5, unit: 'drops' }, date: '2023-05-01' }),
    obs({ value: ucum(70, '[lb_av]') }),
    obs({ value: ucum(-20, 'Cel'), date: '2022-01-01' }),
  ]
  /** Positions in the seeded list; an inner list is a tie on every key, broken by id in the first key's direction. */
  type Order = (number | number[])[]
  const EXPECTED: [string, Order][] = [
    ['_sort=value-quantity', [2, 9, 6, 7, [0, 5, 8], 3, 1, 4]],
    ['_sort=-value-quantity', [3, 1, [0, 5, 8], 2, 7, 6, 9, 4]],
    ['_sort=value-quantity,-date', [2, 9, 6, 7, 5, 0, 8, 3, 1, 4]],
    ['_sort=-value-quantity,date', [3, 1, 0, 5, 8, 2, 7, 6, 9, 4]],
    ['_sort=date,value-quantity', [9, 2, 7, 0, 3, 1, 4, 5, 6, 8]],
    ['_sort=-date,-value-quantity', [5, 3, 1, 0, 4, 2, 7, 9, 8, 6]],
  ]
  const expectedOf = (query: string) => EXPECTED.find(([q]) => q === query)![1]
  const resolve = (order: Order, ids: readonly string[], descending: boolean) =>
    order.flatMap((p) => {
      if (typeof p === 'number') return [ids[p]!]
      const tied = p.map((i) => ids[i]!).sort()
      return descending ? tied.reverse() : tied
    })

  const idsOf = (page: SearchPage) => page.entries.map((e) => e.id)

  /** `query` with `_count=n` walked with next cursors, for several page sizes, equals `expected`. */
  async function expectPaged(scope: RequestScope, type: string, query: string, expected: readonly string[]) {
    for (const count of [1, 2, 3, 4, 100]) {
      const pages = await walkPages(f.repo, scope, type, `${query}&_count=${count}`)
      expect(pages.flat(), `${query}&_count=${count}`).toEqual(expected)
      expect(pages.every((p) => p.length <= count && p.length > 0), `${query}&_count=${count}`).toBe(true)
    }
  }

  it('orders by the smallest value as written ascending and the largest descending, whatever the unit, open ranges at the ends and resources without a value last', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    for (const query of ['_sort=value-quantity', '_sort=-value-quantity']) {
      const expected = resolve(expectedOf(query), ids, query.includes('=-'))
      expect(idsOf(await search(f.repo, scope, 'Observation', `${query}&_count=100`)), query).toEqual(expected)
    }
  })

  it('sorts by a quantity as first or later key with a date, resources lacking either after those having it', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    for (const query of ['_sort=value-quantity,-date', '_sort=-value-quantity,date', '_sort=date,value-quantity', '_sort=-date,-value-quantity']) {
      expect(idsOf(await search(f.repo, scope, 'Observation', `${query}&_count=100`)), query).toEqual(resolve(expectedOf(query), ids, false))
    }
  })

  it('pages with next cursors through exactly the sorted list, across ties, infinities and the with/without-value boundary', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    for (const [query, order] of EXPECTED) await expectPaged(scope, 'Observation', query, resolve(order, ids, query.startsWith('_sort=-')))
  })

  it('walks back with previous cursors to the same pages', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, OBSERVATIONS)
    for (const query of ['_sort=value-quantity&_count=2', '_sort=-value-quantity,date&_count=3', '_sort=date,value-quantity&_count=4']) await expectWalksBack(f.repo, scope, 'Observation', query)
  })

  it('sorts by combo-value-quantity over the value and every component value, as written', async () => {
    const scope = await f.newTenant()
    // Ascending (smallest) / descending (largest): 70/120, -inf/150, 1500/1500, none, 90/+inf, 80/80.
    const ids = await seed(f.repo, scope, [
      obs({ value: ucum(70, 'kg'), components: [ucum(120, 'mm[Hg]'), ucum(80, 'mm[Hg]')] }),
      obs({ components: [ucum(150, 'mm[Hg]'), ucum(60, 'mm[Hg]', '<')] }),
      obs({ value: ucum(1500, 'g') }),
      obs({}),
      obs({ value: ucum(100, 'kg'), components: [ucum(90, 'mm[Hg]', '>')] }),
      obs({ components: [ucum(80, 'mm[Hg]')] }),
    ])
    await expectPaged(scope, 'Observation', '_sort=combo-value-quantity', [1, 0, 5, 4, 2, 3].map((i) => ids[i]!))
    await expectPaged(scope, 'Observation', '_sort=-combo-value-quantity', [4, 2, 1, 0, 5, 3].map((i) => ids[i]!))
  })

  const percent = (value: number): Quantity => ({ value, system: UCUM, code: '%' })
  const risk = (...predictions: (number | { low?: number; high?: number })[]): RiskAssessment => ({
    resourceType: 'RiskAssessment',
    status: 'final',
    subject: { reference: 'Patient/p1' },
    ...(predictions.length
      ? {
          prediction: predictions.map((p) =>
            typeof p === 'number'
              ? { probabilityDecimal: p }
              : { probabilityRange: { ...(p.low !== undefined ? { low: percent(p.low) } : {}), ...(p.high !== undefined ? { high: percent(p.high) } : {}) } },
          ),
        }
      : {}),
  })

  it('sorts by a number parameter (RiskAssessment probability): smallest low ascending, largest high descending, open Range ends at the ends', async () => {
    const scope = await f.newTenant()
    // Ascending / descending keys: 0.2/0.9, 0.1/0.5, -inf/0.3, 0.6/+inf, none, 0.5/0.5, 0.05/0.05.
    const ids = await seed(f.repo, scope, [risk(0.9, 0.2), risk({ low: 0.1, high: 0.5 }), risk({ high: 0.3 }), risk({ low: 0.6 }), risk(), risk(0.5), risk(0.05)])
    await expectPaged(scope, 'RiskAssessment', '_sort=probability', [2, 6, 1, 0, 5, 3, 4].map((i) => ids[i]!))
    const tied = [ids[1]!, ids[5]!].sort().reverse()
    await expectPaged(scope, 'RiskAssessment', '_sort=-probability', [ids[3]!, ids[0]!, ...tied, ids[2]!, ids[6]!, ids[4]!])
  })

  it('writes no search_sort row for a quantity Observation or a number RiskAssessment', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [OBSERVATIONS[0]!, obs({ components: [ucum(80, 'mm[Hg]')] }), risk(0.5, { low: 0.1 })])
    const { rows } = await sql<{ param: string }>`SELECT param FROM search_sort WHERE tenant_id = ${scope.tenantId} AND resource_type IN ('Observation', 'RiskAssessment')`.execute(f.db.db)
    expect(rows.map((r) => r.param)).toEqual([])
    const quantities = await sql<{ system: string | null }>`SELECT system FROM search_quantity WHERE tenant_id = ${scope.tenantId} AND param = 'value-quantity'`.execute(f.db.db)
    // The canonical twin (70000 g) is there for searches, and left out of the sort key.
    expect(quantities.rows.map((r) => r.system).sort()).toEqual([UCUM, 'urn:segimed:ucum-canonical'])
  })

  const compiled = (tenantId: string, type: string, sort: string, page: { phase: number; cursor?: string[] }) => {
    const request = parseSearchRequest(r4SearchParamRegistry().forType(type), [['_sort', sort]], { now: new Date() })
    const cursor = page.cursor ? { direction: 'after' as const, phase: page.phase, keys: page.cursor.slice(0, -1), id: page.cursor[page.cursor.length - 1]! } : undefined
    return compilePageQuery(planSearch(tenantId, request), { phase: page.phase, direction: 'after', cursor, limit: 5 })
  }

  it('compiles the key from the as-written quantity rows and compares cursors numerically', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, OBSERVATIONS)
    const ascending = compiled(scope.tenantId, 'Observation', 'value-quantity', { phase: 0, cursor: ['-Infinity', 'x'] })
    const text = ascending.compile(f.db.db).sql
    expect(text).toContain('JOIN LATERAL (SELECT min(s0v.low) AS k FROM "search_quantity" s0v WHERE s0v.tenant_id = $1 AND s0v.resource_type = $2 AND s0v.param = $3 AND s0v.pkey = $4::int8 AND s0v.id = r.id AND s0v.system IS DISTINCT FROM $5) s0 ON s0.k IS NOT NULL')
    expect(text).toMatch(/s0\.k >= \$\d+::numeric AND \(\(s0\.k > \$\d+::numeric\) OR \(s0\.k = \$\d+::numeric AND \(r\.id > \$\d+\)\)\)/)
    expect(text).toContain('ORDER BY s0.k ASC, r.id ASC')
    const combo = compiled(scope.tenantId, 'Observation', '-combo-value-quantity', { phase: 0 }).compile(f.db.db).sql
    expect(combo).toContain('JOIN LATERAL (SELECT max(s0v.high) AS k FROM "search_quantity" s0v WHERE s0v.tenant_id = $1 AND s0v.resource_type = $2 AND s0v.param = ANY($3::text[]) AND s0v.pkey = ANY($4::int8[]) AND s0v.id = r.id AND s0v.system IS DISTINCT FROM $5) s0')
    expect(combo).toContain('ORDER BY s0.k DESC, r.id DESC')
    const without = compiled(scope.tenantId, 'Observation', 'value-quantity', { phase: 1 }).compile(f.db.db).sql
    expect(without).toContain('NOT EXISTS (SELECT 1 FROM "search_quantity" s WHERE s.tenant_id = $')
    const number = compiled(scope.tenantId, 'RiskAssessment', '-probability', { phase: 0 }).compile(f.db.db).sql
    expect(number).toContain('JOIN LATERAL (SELECT max(s0v.high) AS k FROM "search_number" s0v WHERE')
    // A cursor on an open range ('-Infinity', and id 'x' after every UUID id) casts back to numeric: the page resumes at -20.
    expect((await ascending.execute(f.db.db)).rows.map((r) => r.k0)).toEqual(['-20', '-3', '0.5', '70', '70'])
  })
})
