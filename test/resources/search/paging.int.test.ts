import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, Patient } from '@medplum/fhirtypes'
import type { Repository, RequestScope, SearchPage } from '../../../src/resources/index.js'
import { expectWalksBack, openSearchFixture, walkPages, search, seed, type SearchFixture } from './search-fixture.js'

/** _sort, _count, keyset paging and _total — https://hl7.org/fhir/R4/search.html#return */
describe('search: sorting, paging and totals', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const FAMILIES = ['Zapata', 'álvarez', 'Bravo', 'Álvarez', 'Bravo', 'Castro', 'Bravo']
  const patient = (i: number): Patient => ({
    resourceType: 'Patient',
    name: [{ family: FAMILIES[i % FAMILIES.length], given: [`G${i}`] }],
    ...(i % 3 === 0 ? {} : { birthDate: `${1950 + (i % 50)}-01-${String(1 + (i % 28)).padStart(2, '0')}` }),
  })

  const familyOf = (p: Patient) => (p.name?.[0]?.family ?? '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

  it('sorts by several keys ascending and descending, resources without the first key last', async () => {
    const scope = await f.newTenant()
    const resources = Array.from({ length: 12 }, (_, i) => patient(i))
    const ids = await seed(f.repo, scope, resources)
    const byId = new Map(ids.map((id, i) => [id, resources[i]!]))
    const page = await search(f.repo, scope, 'Patient', '_sort=family,-birthdate&_count=50')
    const got = page.entries.map((e) => byId.get(e.id)!)
    const expected = [...resources].sort((a, b) => {
      const fa = familyOf(a)
      const fb = familyOf(b)
      if (fa !== fb) return fa < fb ? -1 : 1
      if (!a.birthDate || !b.birthDate) return a.birthDate ? -1 : b.birthDate ? 1 : 0
      return a.birthDate < b.birthDate ? 1 : a.birthDate > b.birthDate ? -1 : 0
    })
    expect(got.map((p) => [familyOf(p), p.birthDate ?? null])).toEqual(expected.map((p) => [familyOf(p), p.birthDate ?? null]))
  })

  it('sorts by -date with resources without a date after every dated one, and by _lastUpdated and _id', async () => {
    const scope = await f.newTenant()
    const obs = (effectiveDateTime?: string): Observation => ({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      ...(effectiveDateTime ? { effectiveDateTime } : {}),
    })
    const ids = await seed(f.repo, scope, [obs('2024-01-01'), obs(), obs('2024-06-01'), obs('2023-01-01'), obs()])
    const order = async (q: string) => (await search(f.repo, scope, 'Observation', q)).entries.map((e) => ids.indexOf(e.id))
    expect((await order('_sort=-date')).slice(0, 3)).toEqual([2, 0, 3])
    expect((await order('_sort=date')).slice(0, 3)).toEqual([3, 0, 2])
    expect(await order('_sort=_lastUpdated')).toEqual([0, 1, 2, 3, 4])
    expect(await order('_sort=-_lastUpdated')).toEqual([4, 3, 2, 1, 0])
    expect(await order('_sort=_id')).toEqual(ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1)))
  })

  it('pages with next cursors through every match exactly once while others write', async () => {
    const scope = await f.newTenant()
    const original = await seed(f.repo, scope, Array.from({ length: 23 }, (_, i) => patient(i)))
    for (const query of ['_sort=family,-birthdate&_count=4', '_count=5', '_sort=-_lastUpdated&_count=6', '_sort=birthdate&_count=3']) {
      let k = 0
      const pages = await walkPages(f.repo, scope, 'Patient', query, async (n) => {
        // New resources, and updates that keep the sort keys, land while the walk goes on.
        await seed(f.repo, scope, [patient(100 + n + k++ * 7)])
        const id = original[(n * 5) % original.length]!
        const current = JSON.parse((await f.repo.read(scope, 'Patient', id)).json) as Patient
        if (!query.includes('_lastUpdated')) await f.repo.update(scope, { ...current, gender: n % 2 ? 'male' : 'female' })
      })
      const seen = pages.flat()
      expect(new Set(seen).size, query).toBe(seen.length)
      for (const id of original) expect(seen.filter((s) => s === id), query).toHaveLength(1)
    }
  })

  it('walks back with previous cursors to the same pages', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, Array.from({ length: 14 }, (_, i) => patient(i)))
    for (const query of ['_sort=-birthdate&_count=3', '_count=4', '_sort=family,given&_count=5']) await expectWalksBack(f.repo, scope, 'Patient', query)
  })

  it('answers a cursor whose key is not of the sort key\'s kind with a 400 naming _cursor, and still pages with real ones', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, Array.from({ length: 6 }, (_, i) => patient(i)))
    for (const query of ['_sort=-birthdate&_count=2', '_sort=_lastUpdated&_count=2']) {
      const first = await search(f.repo, scope, 'Patient', query)
      const [d, phase, keys, id] = JSON.parse(Buffer.from(first.next!, 'base64url').toString('utf8')) as [string, number, string[], string]
      expect(keys.length, query).toBeGreaterThan(0)
      const forged = Buffer.from(JSON.stringify([d, phase, keys.map(() => "1~'; DROP TABLE resource; --"), id])).toString('base64url')
      const error = (await search(f.repo, scope, 'Patient', `${query}&_cursor=${forged}`).catch((e: unknown) => e)) as { kind?: string; issues?: { expression?: string[] }[]; message?: string }
      expect(error.kind, query).toBe('invalid')
      expect(error.issues?.[0]?.expression, query).toEqual(['_cursor'])
      expect(error.message, query).toMatch(/not a key of this sort/)
      expect((await search(f.repo, scope, 'Patient', `${query}&_cursor=${first.next}`)).entries.length, query).toBe(2)
    }
  })

  it('reports _total=accurate equal to the number of matches, an estimate on request, and none when asked', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, Array.from({ length: 9 }, (_, i) => patient(i)))
    const expected = (await search(f.repo, scope, 'Patient', 'family=bravo&_count=1000')).entries.length
    expect(expected).toBeGreaterThan(0)
    expect((await search(f.repo, scope, 'Patient', 'family=bravo&_count=1&_total=accurate')).total).toBe(expected)
    expect((await search(f.repo, scope, 'Patient', 'family=bravo&_count=1')).total).toBe(expected)
    expect((await search(f.repo, scope, 'Patient', 'family=bravo&_total=none')).total).toBeUndefined()
    expect(typeof (await search(f.repo, scope, 'Patient', 'family=bravo&_total=estimate')).total).toBe('number')
  })

  it('answers _summary=count and _count=0 with the total and no entries, and caps _count at 1000', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, Array.from({ length: 3 }, (_, i) => patient(i)))
    expect(await search(f.repo, scope, 'Patient', '_summary=count')).toMatchObject({ total: 3, entries: [] })
    expect(await search(f.repo, scope, 'Patient', '_count=0')).toMatchObject({ total: 3, entries: [] })
    const page = await search(f.repo, scope, 'Patient', '_count=5000')
    expect(page.request.count).toBe(1000)
    expect(page.entries).toHaveLength(3)
    expect(page.next).toBeUndefined()
  })
})
