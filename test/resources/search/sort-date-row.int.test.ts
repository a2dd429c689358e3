import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Encounter, Observation } from '@medplum/fhirtypes'
import { sql } from 'kysely'
import { r4SearchParamRegistry, type RequestScope, type SearchPage } from '../../../src/resources/index.js'
import { compilePageQuery, parseSearchRequest, planSearch } from '../../../src/resources/search/index.js'
import { matchIds, openSearchFixture, search, type SearchFixture } from './search-fixture.js'

/**
 * `_sort` by a date parameter with at most one row per resource (Observation `date` =
 * Observation.effective, https://hl7.org/fhir/R4/search.html#sort): the page orders by that
 * search_date row — (high, low, id) descending, (low, high, id) ascending — a date window on the same
 * parameter is tested on that row, and no search_sort row is written for it. A repeating date
 * parameter (Encounter `location-period`) keeps its search_sort row.
 */
describe('search: _sort by a one-row date parameter', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const obs = (status: Observation['status'], effective: Partial<Observation>): Observation => ({ resourceType: 'Observation', status, code: { text: 'x' }, ...effective })
  /**
   * Stored ranges [low, high): A 2021 (the year), B 2021-03 (the month), C and K 2021-03-15 (the
   * day, tied), D 08:30:00Z to 08:30:01Z that day (seconds, given at +02:00), E a Period open at
   * its end (2020-06-01 to infinity), F a Period open at its start (-infinity to 2019-03-01), G a
   * Period 08:00:00Z to 09:00:01Z that day, H an instant in 2022 (one millisecond); I and J have none.
   */
  const OBSERVATIONS: Record<string, Observation> = {
    A: obs('final', { effectiveDateTime: '2021' }),
    B: obs('final', { effectiveDateTime: '2021-03' }),
    C: obs('final', { effectiveDateTime: '2021-03-15' }),
    D: obs('final', { effectiveDateTime: '2021-03-15T10:30:00+02:00' }),
    E: obs('final', { effectivePeriod: { start: '2020-06-01' } }),
    F: obs('final', { effectivePeriod: { end: '2019-02' } }),
    G: obs('final', { effectivePeriod: { start: '2021-03-15T08:00:00Z', end: '2021-03-15T09:00:00Z' } }),
    H: obs('final', { effectiveInstant: '2022-07-04T12:00:00.123Z' }),
    I: obs('final', {}),
    J: obs('registered', {}),
    K: obs('amended', { effectiveDateTime: '2021-03-15' }),
  }
  const ASCENDING = ['F', 'E', 'A', 'B', 'C|K', 'G', 'D', 'H', 'I|J']
  const DESCENDING = ['E', 'H', 'A', 'B', 'C|K', 'G', 'D', 'F', 'I|J']

  /** Seeds every Observation under its letter as a client-chosen id (update as create), prefixed per tenant. */
  async function seedLetters(scope: RequestScope, prefix: string, resources: Record<string, Observation | Encounter> = OBSERVATIONS) {
    for (const [letter, r] of Object.entries(resources)) await f.repo.update(scope, { ...r, id: `${prefix}${letter}` })
    return (letters: string[]) => letters.map((l) => `${prefix}${l}`)
  }
  /** Letters in order; `X|Y` is a tie on every key, broken by id in the first key's direction (ids sort as their letters). */
  const expand = (order: string[], options: { descendingTies: boolean }) =>
    order.flatMap((l) => {
      const tied = l.split('|').sort()
      return options.descendingTies ? tied.reverse() : tied
    })
  const idsOf = (page: SearchPage) => page.entries.map((e) => e.id)

  /** Every page following next links, then the same pages following previous links back. */
  async function pagesBothWays(scope: RequestScope, type: string, query: string): Promise<{ forward: string[][]; back: string[][] }> {
    const forward: SearchPage[] = [await search(f.repo, scope, type, query)]
    while (forward[forward.length - 1]!.next && forward.length < 50) forward.push(await search(f.repo, scope, type, `${query}&_cursor=${forward[forward.length - 1]!.next}`))
    const back: SearchPage[] = [forward[forward.length - 1]!]
    while (back[0]!.previous && back.length < 50) back.unshift(await search(f.repo, scope, type, `${query}&_cursor=${back[0]!.previous}`))
    return { forward: forward.map(idsOf), back: back.map(idsOf) }
  }

  it('orders dateTimes of every precision, instants and open Periods by their range, resources without a date last', async () => {
    const scope = await f.newTenant()
    const ids = await seedLetters(scope, 'o-')
    const noDate = ids(['I', 'J'])
    expect(idsOf(await search(f.repo, scope, 'Observation', '_sort=date'))).toEqual(ids(expand(ASCENDING, { descendingTies: false })))
    expect(idsOf(await search(f.repo, scope, 'Observation', '_sort=-date'))).toEqual([...ids(expand(DESCENDING.slice(0, -1), { descendingTies: true })), ...noDate])
  })

  it('pages with _count=2 through exactly the sorted list by next links, and back by previous links', async () => {
    const scope = await f.newTenant()
    const ids = await seedLetters(scope, 'o-')
    const cases: [string, string[]][] = [
      ['_sort=date', ids(expand(ASCENDING, { descendingTies: false }))],
      ['_sort=-date', [...ids(expand(DESCENDING.slice(0, -1), { descendingTies: true })), ...ids(['I', 'J'])]],
      ['_sort=-date,status', ids(['E', 'H', 'A', 'B', 'K', 'C', 'G', 'D', 'F', 'I', 'J'])],
      ['_sort=date,-status', ids(['F', 'E', 'A', 'B', 'C', 'K', 'G', 'D', 'H', 'J', 'I'])],
      ['_sort=status,-date', ids(['K', 'E', 'H', 'A', 'B', 'C', 'G', 'D', 'F', 'I', 'J'])],
      ['date=ge2021-03-01&date=lt2021-04-01&_sort=-date', ids(['E', 'A', 'B', 'K', 'C', 'G', 'D'])],
      ['date=ge2021-03-01&date=lt2021-04-01&_sort=date', ids(['E', 'A', 'B', 'C', 'K', 'G', 'D'])],
      ['date=ge2021-03-01&date=lt2021-04-01&_sort=date,-status', ids(['E', 'A', 'B', 'C', 'K', 'G', 'D'])],
    ]
    for (const [query, expected] of cases) {
      const { forward, back } = await pagesBothWays(scope, 'Observation', `${query}&_count=2`)
      expect(forward.flat(), query).toEqual(expected)
      expect(forward.every((p) => p.length > 0 && p.length <= 2), query).toBe(true)
      expect(back, query).toEqual(forward)
    }
  })

  it('sorts a window on the same parameter, matching what the unsorted search matches, with its total', async () => {
    const scope = await f.newTenant()
    const ids = await seedLetters(scope, 'o-')
    const cases: [string, string[]][] = [
      ['date=ge2021-03-01&date=lt2021-04-01', ['E', 'A', 'B', 'K', 'C', 'G', 'D']],
      ['date=lt2019-06-01,gt2022-01', ['E', 'H', 'F']],
      ['date=ge2021-03-15', ['E', 'H', 'A', 'B', 'K', 'C', 'G', 'D']],
      ['date=eq2021-03-15', ['K', 'C', 'G', 'D']],
      ['date=sa2021-03-15&date=le2022', ['H']],
    ]
    for (const [window, letters] of cases) {
      const page = await search(f.repo, scope, 'Observation', `${window}&_sort=-date`)
      expect(idsOf(page), window).toEqual(ids(letters))
      expect(page.total, window).toBe(letters.length)
      expect([...idsOf(page)].sort(), window).toEqual(await matchIds(f.repo, scope, 'Observation', window))
    }
    // A modifier or :missing is no window: it keeps its own condition, and the walk its two phases.
    expect(idsOf(await search(f.repo, scope, 'Observation', 'date:missing=true&_sort=-date'))).toEqual(ids(['I', 'J']))
    expect(idsOf(await search(f.repo, scope, 'Observation', 'date:missing=false&status=registered,amended&_sort=date'))).toEqual(ids(['K']))
  })

  it('tests the window on the sort row in one phase, and compiles the order to the search_date indexes', async () => {
    const scope = await f.newTenant()
    const ids = await seedLetters(scope, 'o-')
    const compile = (query: string, phase = 0) => {
      const request = parseSearchRequest(r4SearchParamRegistry().forType('Observation'), [...new URLSearchParams(query)], { now: new Date() })
      const plan = planSearch(scope.tenantId, request)
      return { plan, page: compilePageQuery(plan, { phase, direction: 'after', limit: request.count + 1 }) }
    }
    const windowed = compile('status=final&date=ge2021-03-01&date=lt2021-04-01&_sort=-date')
    expect(windowed.plan.phases).toBe(1)
    const text = windowed.page.compile(f.db.db).sql
    expect(text).toContain('JOIN search_date s0 ON s0.tenant_id = $1 AND s0.resource_type = $2 AND s0.param = $3 AND s0.pkey = $4::int8 AND s0.id = r.id')
    expect(text).toContain('"s0"."high" > $')
    expect(text).toContain('"s0"."low" < $')
    expect(text).not.toContain('FROM "search_date"')
    expect(text).toContain('ORDER BY s0.high DESC, s0.low DESC, s0.id DESC')
    expect((await windowed.page.execute(f.db.db)).rows.map((r) => r.id)).toEqual(ids(['E', 'A', 'B', 'K', 'C', 'G', 'D']).filter((id) => !id.endsWith('K')))
    const ascending = compile('_sort=date')
    expect(ascending.plan.phases).toBe(2)
    expect(ascending.page.compile(f.db.db).sql).toContain('ORDER BY s0.low ASC, s0.high ASC, s0.id ASC')
    expect(compile('_sort=date', 1).page.compile(f.db.db).sql).toContain('NOT EXISTS (SELECT 1 FROM "search_date" s WHERE s.tenant_id = $')
    // Cursor keys are the bounds as timestamptz text (cast back when compared), ±infinity included.
    const [first, second] = (await ascending.page.execute(f.db.db)).rows
    const instant = (text: string | null | undefined) => new Date(text!.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString()
    expect([first?.k0, instant(first?.k1), instant(second?.k0), second?.k1]).toEqual(['-infinity', '2019-03-01T00:00:00.000Z', '2020-06-01T00:00:00.000Z', 'infinity'])
  })

  it('writes one search_date row and no search_sort row for Observation date', async () => {
    const scope = await f.newTenant()
    await seedLetters(scope, 'o-')
    const sortRows = await sql<{ n: string }>`SELECT count(*) AS n FROM search_sort WHERE tenant_id = ${scope.tenantId} AND resource_type = 'Observation' AND param = 'date'`.execute(f.db.db)
    expect(Number(sortRows.rows[0]!.n)).toBe(0)
    const dateRows = await sql<{ id: string; n: string }>`SELECT id, count(*) AS n FROM search_date WHERE tenant_id = ${scope.tenantId} AND resource_type = 'Observation' AND param = 'date' GROUP BY id ORDER BY id`.execute(f.db.db)
    expect(dateRows.rows.map((r) => [r.id, Number(r.n)])).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'K'].map((l) => [`o-${l}`, 1]))
  })

  it('still sorts a repeating date parameter (Encounter location-period) through search_sort, by its smallest start or largest end', async () => {
    const scope = await f.newTenant()
    const encounter = (periods: { start?: string; end?: string }[]): Encounter => ({
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      ...(periods.length ? { location: periods.map((period, i) => ({ location: { reference: `Location/l${i}` }, period })) } : {}),
    })
    const ids = await seedLetters(scope, 'e-', {
      P: encounter([{ start: '2020-01-01', end: '2020-02-01' }, { start: '2023-05-01', end: '2023-05-31' }]),
      Q: encounter([{ start: '2021-06-01', end: '2021-06-30' }]),
      R: encounter([{ start: '2019-12-31', end: '2019-12-31' }, { start: '2024-01-01', end: '2024-01-01' }]),
      S: encounter([]),
    })
    const { rows } = await sql<{ id: string; lo: string; hi: string }>`SELECT id, lo, hi FROM search_sort WHERE tenant_id = ${scope.tenantId} AND param = 'location-period' ORDER BY id`.execute(f.db.db)
    expect(rows.map((r) => r.id)).toEqual(ids(['P', 'Q', 'R']))
    const request = parseSearchRequest(r4SearchParamRegistry().forType('Encounter'), [['_sort', 'location-period']], { now: new Date() })
    expect(planSearch(scope.tenantId, request).sort[0]).toMatchObject({ source: 'sort-table' })
    expect(idsOf(await search(f.repo, scope, 'Encounter', '_sort=location-period'))).toEqual(ids(['R', 'P', 'Q', 'S']))
    expect(idsOf(await search(f.repo, scope, 'Encounter', '_sort=-location-period'))).toEqual(ids(['R', 'P', 'Q', 'S']))
    const { forward, back } = await pagesBothWays(scope, 'Encounter', '_sort=-location-period&location-period=ge2021&_count=1')
    expect(forward.flat()).toEqual(ids(['R', 'P', 'Q']))
    expect(back).toEqual(forward)
  })

  it("orders by this tenant's rows only, with the same ids and opposite dates in another tenant", async () => {
    const mine = await f.newTenant()
    const other = await f.newTenant()
    const dates = ['2020-01-01', '2021-01-01', '2022-01-01']
    for (const [i, date] of dates.entries()) {
      await f.repo.update(mine, { ...obs('final', { effectiveDateTime: date }), id: `iso-${i}` })
      await f.repo.update(other, { ...obs('final', { effectiveDateTime: dates[2 - i] }), id: `iso-${i}` })
    }
    await f.repo.update(other, { ...obs('final', { effectiveDateTime: '2030-01-01' }), id: 'iso-other' })
    const { forward } = await pagesBothWays(mine, 'Observation', '_sort=-date&_count=1')
    expect(forward.flat()).toEqual(['iso-2', 'iso-1', 'iso-0'])
    expect(idsOf(await search(f.repo, mine, 'Observation', 'date=ge2020-06-01&_sort=date'))).toEqual(['iso-1', 'iso-2'])
    expect(idsOf(await search(f.repo, other, 'Observation', '_sort=-date'))).toEqual(['iso-other', 'iso-0', 'iso-1', 'iso-2'])
  })
})
