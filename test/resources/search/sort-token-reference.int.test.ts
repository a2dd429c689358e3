import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Condition, Observation } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { r4SearchParamRegistry, type RequestScope, type SearchPage } from '../../../src/resources/index.js'
import { compilePageQuery, parseSearchRequest, planSearch } from '../../../src/resources/search/index.js'
import { expectWalksBack, openSearchFixture, walkPages, search, seed, type SearchFixture } from './search-fixture.js'

/**
 * `_sort` by token and reference parameters (https://hl7.org/fhir/R4/search.html#sort): their keys
 * are read from search_token / search_reference at query time, not from search_sort rows.
 */
describe('search: _sort by token and reference parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const obs = (o: { status: Observation['status']; codes?: string[]; text?: string; category?: string; subject?: string; date?: string }): Observation => ({
    resourceType: 'Observation',
    status: o.status,
    code: { ...(o.codes ? { coding: o.codes.map((code) => ({ system: 'urn:test', code })) } : {}), ...(o.text ? { text: o.text } : {}) },
    ...(o.category ? { category: [{ coding: [{ system: 'urn:cat', code: o.category }] }] } : {}),
    ...(o.subject ? { subject: { reference: o.subject } } : {}),
    ...(o.date ? { effectiveDateTime: o.date } : {}),
  })
  /**
   * Ascending `code` keys (the smallest): a9, zeta pressure (text only), b5, c1, a9, B7 ("B" sorts
   * before "a" byte-wise, as search_sort's COLLATE "C" did); descending (the largest): m2, zeta
   * pressure, b5, z0, a9, k3. Subjects: a local reference, another server's URL (no type), none.
   */
  const OBSERVATIONS = [
    obs({ status: 'final', codes: ['m2', 'a9'], category: 'vital-signs', subject: 'Patient/p2', date: '2024-03-01' }),
    obs({ status: 'amended', text: 'Zeta pressure', subject: 'Patient/p1', date: '2024-01-01' }),
    obs({ status: 'final', codes: ['b5'], category: 'laboratory', subject: 'http://other.example/fhir/Patient/x', date: '2023-06-01' }),
    obs({ status: 'preliminary', codes: ['c1', 'z0'], category: 'laboratory', subject: 'Patient/p1', date: '2024-06-01' }),
    obs({ status: 'final', codes: ['a9'], date: '2022-01-01' }),
    obs({ status: 'cancelled', codes: ['k3', 'B7'], category: 'vital-signs', subject: 'Patient/p10' }),
  ]
  /** The expected order of each query, as positions in OBSERVATIONS (ties on every key: see `byId`). */
  const EXPECTED: [string, number[]][] = [
    ['_sort=code,-date', [5, 0, 4, 2, 3, 1]],
    ['_sort=code,date', [5, 4, 0, 2, 3, 1]],
    ['_sort=-code', [1, 3, 0, 5, 2, 4]],
    ['_sort=status,-date', [1, 5, 0, 2, 4, 3]],
    ['_sort=-status,date', [3, 4, 2, 0, 5, 1]],
    ['_sort=subject,date', [1, 3, 5, 0, 2, 4]],
    ['_sort=-subject,-date', [2, 0, 5, 3, 1, 4]],
    ['_sort=category,-date', [3, 2, 0, 5, 1, 4]],
    ['_sort=-category,date', [0, 5, 2, 3, 4, 1]],
    ['_sort=date,status', [4, 2, 1, 0, 3, 5]],
    ['_sort=status,subject', [1, 5, 0, 2, 4, 3]],
    ['_sort=-status,-subject', [3, 2, 0, 4, 5, 1]],
    ['_sort=status,category', [1, 5, 2, 0, 4, 3]],
  ]
  const expectedOf = (query: string) => EXPECTED.find(([q]) => q === query)![1]

  const idsOf = (page: SearchPage) => page.entries.map((e) => e.id)

  it('orders by the smallest token key ascending and the largest descending, a date breaking ties', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    for (const query of ['_sort=code,-date', '_sort=code,date', '_sort=-code', '_sort=status,-date', '_sort=-status,date']) {
      expect(idsOf(await search(f.repo, scope, 'Observation', query)), query).toEqual(expectedOf(query).map((i) => ids[i]))
    }
  })

  it('breaks a tie on the only sort key by id in the key direction', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    const tied = [ids[0]!, ids[4]!].sort()
    expect(idsOf(await search(f.repo, scope, 'Observation', '_sort=code')), '_sort=code').toEqual([ids[5], ...tied, ids[2], ids[3], ids[1]])
    const finals = [ids[0]!, ids[2]!, ids[4]!].sort().reverse()
    expect(idsOf(await search(f.repo, scope, 'Observation', '_sort=-status')), '_sort=-status').toEqual([ids[3], ...finals, ids[5], ids[1]])
  })

  it('orders by Type/id of a reference (a bare URL when it has no type), resources without one last', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    for (const query of ['_sort=subject,date', '_sort=-subject,-date', '_sort=category,-date', '_sort=-category,date']) {
      expect(idsOf(await search(f.repo, scope, 'Observation', query)), query).toEqual(expectedOf(query).map((i) => ids[i]))
    }
  })

  it('orders resources lacking a token or reference second key after those having one', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    for (const query of ['_sort=date,status', '_sort=status,subject', '_sort=-status,-subject', '_sort=status,category']) {
      expect(idsOf(await search(f.repo, scope, 'Observation', query)), query).toEqual(expectedOf(query).map((i) => ids[i]))
    }
  })

  it('pages with next cursors through exactly the sorted list, also across the with/without-key boundary', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, OBSERVATIONS)
    for (const [query, order] of EXPECTED) {
      for (const count of [1, 2, 4]) {
        const pages = await walkPages(f.repo, scope, 'Observation', `${query}&_count=${count}`)
        expect(pages.flat(), `${query}&_count=${count}`).toEqual(order.map((i) => ids[i]))
        expect(pages.every((p) => p.length <= count && p.length > 0), `${query}&_count=${count}`).toBe(true)
      }
    }
  })

  it('walks back with previous cursors to the same pages', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, OBSERVATIONS)
    for (const query of ['_sort=-subject,-date&_count=2', '_sort=category,-date&_count=2', '_sort=code&_count=4']) await expectWalksBack(f.repo, scope, 'Observation', query)
  })

  it("reads only this tenant's and this type's index rows for the key, with the same ids elsewhere", async () => {
    const mine = await f.newTenant()
    const other = await f.newTenant()
    const ids = ['iso-1', 'iso-2', 'iso-3']
    const put = (scope: RequestScope, resource: Observation | Condition) => f.repo.update(scope, resource)
    for (const [i, id] of ids.entries()) {
      await put(mine, { ...obs({ status: 'final', codes: [`m${i}`], subject: `Patient/m${i}` }), id })
      // Keys that would come first (and turn every order around) if the other tenant's or type's rows counted.
      await put(other, { ...obs({ status: 'final', codes: [`a${2 - i}`], subject: `Patient/a${2 - i}` }), id })
      await put(mine, { resourceType: 'Condition', id, subject: { reference: `Patient/a${2 - i}` }, code: { coding: [{ code: `a${2 - i}` }] } })
    }
    expect((await walkPages(f.repo, mine, 'Observation', '_sort=code&_count=1')).flat()).toEqual(ids)
    expect(idsOf(await search(f.repo, mine, 'Observation', '_sort=-subject'))).toEqual([...ids].reverse())
    expect(idsOf(await search(f.repo, other, 'Observation', '_sort=code'))).toEqual([...ids].reverse())
    expect(idsOf(await search(f.repo, mine, 'Condition', '_sort=-code'))).toEqual(ids)
  })

  it('writes no search_sort rows for token and reference parameters, and compiles their key from the index rows', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [OBSERVATIONS[0]!])
    const { rows } = await sql<{ param: string }>`SELECT param FROM search_sort WHERE tenant_id = ${scope.tenantId} ORDER BY param`.execute(f.db.db)
    expect(rows.map((r) => r.param)).not.toContain('code')
    expect(rows.map((r) => r.param)).not.toContain('subject')
    // Observation date has one row per resource: it sorts on that search_date row (sort-date-row.int.test.ts).
    expect(rows.map((r) => r.param)).not.toContain('date')
    const request = parseSearchRequest(r4SearchParamRegistry().forType('Observation'), [['_sort', '-code,subject,date']], { now: new Date() })
    const plan = planSearch(scope.tenantId, request)
    const text = compilePageQuery(plan, { phase: 0, direction: 'after', limit: 5 }).compile(f.db.db).sql
    expect(text).toContain('JOIN LATERAL (SELECT max(COALESCE(s0v.code, s0v.display) COLLATE "C") AS k FROM "search_token" s0v WHERE s0v.tenant_id = $1')
    expect(text).toContain(`LEFT JOIN LATERAL (SELECT min(COALESCE(s1v.ref_type || '/' || s1v.ref_id, s1v.ref_id) COLLATE "C") AS k FROM "search_reference" s1v`)
    expect(text).toContain('LEFT JOIN search_date s2 ON')
    expect(text).toContain('ORDER BY s0.k DESC, s1.k ASC NULLS LAST, s2.low ASC NULLS LAST, s2.high ASC NULLS LAST, r.id DESC')
    const without = compilePageQuery(plan, { phase: 1, direction: 'after', limit: 5 }).compile(f.db.db).sql
    expect(without).toContain('NOT EXISTS (SELECT 1 FROM "search_token" s WHERE s.tenant_id = $')
    expect((await compilePageQuery(plan, { phase: 0, direction: 'after', limit: 5 }).execute(f.db.db)).rows.map((r) => r.k0)).toEqual(['m2'])
  })
})
