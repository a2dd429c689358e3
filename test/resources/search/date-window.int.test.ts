import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sql } from 'kysely'
import type { Observation } from '@medplum/fhirtypes'
import { createPgRepository, type RequestScope } from '../../../src/resources/index.js'
import { expectWalksBack, openSearchFixture, search, seed, SERVER_URL, walkPages, type SearchFixture } from './search-fixture.js'

/**
 * A date window sorted by that date (`date=ge..&date=lt..&_sort=-date`) walks its index rows between
 * bounds that the parameter's longest stored range implies (search_date_span,
 * src/resources/search/date-window.ts). Every writer raises that span in the statement that writes
 * the rows (src/resources/date-span-sql.ts); a range longer than any before it, an open end, or a
 * missing span row must still be found.
 */
describe('search: date windows bounded by the longest stored range', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const obs = (effective: Partial<Observation>, text: string): Observation => ({ resourceType: 'Observation', status: 'final', code: { text }, ...effective })
  const spanOf = async (scope: RequestScope, type = 'Observation', param = 'date') => {
    const { rows } = await sql<{ max_span: number | null }>`SELECT max(max_span) AS max_span FROM search_date_span WHERE tenant_id = ${scope.tenantId} AND resource_type = ${type} AND param = ${param}`.execute(f.db.db)
    return rows[0]?.max_span == null ? undefined : Number(rows[0].max_span)
  }
  const window = 'date=ge2020-03-01&date=lt2020-04-01&_sort=-date'

  it('raises the span on create, update, bulk writes and $reindex, and never lowers it', async () => {
    const scope = await f.newTenant()
    expect(await spanOf(scope)).toBeUndefined()
    const [point] = await seed(f.repo, scope, [obs({ effectiveDateTime: '2020-03-10T10:00:00Z' }, 'point')])
    // A dateTime to the second is that second.
    expect(await spanOf(scope)).toBe(1)
    await f.repo.update(scope, { ...obs({ effectiveDateTime: '2020-03-10' }, 'a day'), id: point! })
    expect(await spanOf(scope)).toBe(86_400)
    await f.repo.update(scope, { ...obs({ effectiveDateTime: '2020-03-10T10:00:00Z' }, 'point again'), id: point! })
    expect(await spanOf(scope)).toBe(86_400)
    const [outcome] = await f.repo.writeMany(scope, [{ mode: 'create', resource: obs({ effectivePeriod: { start: '2020-03-01', end: '2020-03-10' } }, 'ten days') }])
    expect(outcome && 'stored' in outcome ? outcome.stored.id : outcome).toBeTruthy()
    expect(await spanOf(scope)).toBe(10 * 86_400)
    await seed(f.repo, scope, [obs({ effectivePeriod: { start: '2020-02-01' } }, 'open end')])
    expect(await spanOf(scope)).toBe(Infinity)
    // Rows written before the table existed (or by a loader without the CTE): $reindex raises it again.
    await sql`DELETE FROM search_date_span WHERE tenant_id = ${scope.tenantId}`.execute(f.db.db)
    await f.repo.reindex(scope, { types: ['Observation'] })
    expect(await spanOf(scope)).toBe(Infinity)
  })

  // PostgreSQL only: embedded PGlite runs one transaction at a time, so the two cannot both be open.
  it.skipIf(inject('isEmbeddedDatabase'))('never makes a writer wait: two transactions raising the spans of two types in opposite orders both commit', async () => {
    const scope = await f.newTenant()
    const encounter = (start: string, end: string) => ({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { start, end } }) as const
    let arrived = 0
    let release!: () => void
    const bothWrote = new Promise<void>((resolve) => (release = resolve))
    // Each writes its first type, waits until the other has too (both transactions open), then
    // writes the other type. Upserting one row per parameter, each would wait on the other's row.
    const run = (first: 'Observation' | 'Encounter') =>
      f.db.db.transaction().execute(async (trx) => {
        const repo = createPgRepository({ db: trx, serverUrl: SERVER_URL })
        const writeObservation = () => repo.create(scope, obs({ effectivePeriod: { start: '2020-01-01', end: first === 'Observation' ? '2020-01-03' : '2020-01-04' } }, first))
        const writeEncounter = () => repo.create(scope, encounter('2020-01-01T08:00:00Z', first === 'Observation' ? '2020-01-01T09:00:00Z' : '2020-01-01T10:00:00Z'))
        await (first === 'Observation' ? writeObservation() : writeEncounter())
        if (++arrived === 2) release()
        await bothWrote
        await (first === 'Observation' ? writeEncounter() : writeObservation())
      })
    await Promise.all([run('Observation'), run('Encounter')])
    // The longer of each pair: a Period to 2020-01-04 ends with that day; to 10:00:00, with that second.
    expect(await spanOf(scope, 'Observation')).toBe(4 * 86_400)
    expect(await spanOf(scope, 'Encounter')).toBe(2 * 3_600 + 1)
  })

  it('finds every row of a sorted window, short or long, open-ended, and without a span row, in order', async () => {
    const [a, b] = [await f.newTenant(), await f.newTenant()]
    const world = async (scope: RequestScope) => {
      const ids = await seed(f.repo, scope, [
        obs({ effectiveDateTime: '2020-03-15T08:00:00Z' }, 'in'),
        obs({ effectiveDateTime: '2020-03-31' }, 'last day'),
        obs({ effectiveDateTime: '2020-04-01T00:00:00Z' }, 'after'),
        obs({ effectiveDateTime: '2020-02-29T23:59:59Z' }, 'before'),
        obs({ effectiveDateTime: '2020-03-02T12:00:00Z' }, 'early'),
      ])
      return { in: ids[0]!, lastDay: ids[1]!, early: ids[4]! }
    }
    const inA = await world(a)
    const inB = await world(b)
    const expected = (w: typeof inA, ...more: string[]) => [...more, w.lastDay, w.in, w.early]
    expect(await walkPages(f.repo, a, 'Observation', `${window}&_count=2`)).toEqual([[inA.lastDay, inA.in], [inA.early]])
    // A range from long before the window to long after it: high is far above the window's end.
    const [long] = await seed(f.repo, a, [obs({ effectivePeriod: { start: '2019-01-01', end: '2021-12-31' } }, 'long')])
    expect((await walkPages(f.repo, a, 'Observation', `${window}&_count=2`)).flat()).toEqual(expected(inA, long!))
    // Longer still, and open-ended: the span is Infinity, no bound.
    const [open] = await seed(f.repo, a, [obs({ effectivePeriod: { start: '2018-06-01' } }, 'open')])
    const withOpen = (await walkPages(f.repo, a, 'Observation', `${window}&_count=2`)).flat()
    expect(withOpen).toEqual(expected(inA, open!, long!))
    await expectWalksBack(f.repo, a, 'Observation', `${window}&_count=2`)
    // Tenant b has none of those and its own span: each sees its own rows only.
    expect((await walkPages(f.repo, b, 'Observation', `${window}&_count=2`)).flat()).toEqual(expected(inB))
    expect(withOpen.some((id) => Object.values(inB).includes(id))).toBe(false)
    // No span row (data from before the migration): unbounded, the same rows.
    await sql`DELETE FROM search_date_span WHERE tenant_id = ${a.tenantId}`.execute(f.db.db)
    expect((await walkPages(f.repo, a, 'Observation', `${window}&_count=2`)).flat()).toEqual(withOpen)
    // Ascending (by the start of each range): the same rows.
    expect((await search(f.repo, a, 'Observation', 'date=ge2020-03-01&date=lt2020-04-01&_sort=date')).entries.map((e) => e.id)).toEqual([open, long, inA.early, inA.in, inA.lastDay])
  })

  it('bounds the walk of the window on the index with the span', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [obs({ effectiveDateTime: '2020-03-15T08:00:00Z' }, 'in')])
    f.statements.length = 0
    await search(f.repo, scope, 'Observation', window)
    const page = f.statements.find((s) => s.includes('JOIN search_date s0'))
    expect(page).toBeDefined()
    expect(page).toMatch(/"s0"\."low" >= coalesce\(\(SELECT CASE WHEN max\(d\.max_span\)/)
    expect(page).toMatch(/"s0"\."high" <= coalesce\(\(SELECT CASE WHEN max\(d\.max_span\)/)
  })
})
