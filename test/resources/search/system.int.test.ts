import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import type { RequestScope, SearchPage } from '../../../src/resources/index.js'
import { openSearchFixture, seed, type SearchFixture } from './search-fixture.js'

const TAG = 'http://example.org/tags'

/** System-level search — https://hl7.org/fhir/R4/http.html#search (`GET [base]?_type=...`) */
describe('search: system level', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const system = (scope: RequestScope, query: string, strict = false): Promise<SearchPage> => f.repo.searchSystem(scope, { params: [...new URLSearchParams(query)], strict })
  const refs = (page: SearchPage) => page.entries.map((e) => `${e.resourceType}/${e.id}`)
  const tagged = (code: string) => ({ meta: { tag: [{ system: TAG, code }] } })

  async function world() {
    const scope = await f.newTenant()
    const [p1, p2] = await seed(f.repo, scope, [
      { resourceType: 'Patient', name: [{ family: 'Ana' }], ...tagged('vip') },
      { resourceType: 'Patient', name: [{ family: 'Bo' }] },
    ] as Resource[])
    const [o1] = await seed(f.repo, scope, [{ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p1}` }, ...tagged('vip') } as Resource])
    const [c1] = await seed(f.repo, scope, [{ resourceType: 'Condition', subject: { reference: `Patient/${p2}` }, code: { text: 'Diabetes' } } as Resource])
    return { scope, p1: p1!, p2: p2!, o1: o1!, c1: c1! }
  }

  it('searches every type with the common parameters, entries keeping their own type', async () => {
    const { scope, p1, o1 } = await world()
    const page = await system(scope, `_tag=${TAG}|vip`)
    expect(refs(page).sort()).toEqual([`Observation/${o1}`, `Patient/${p1}`].sort())
    expect(page.total).toBe(2)
    expect(JSON.parse(page.entries.find((e) => e.resourceType === 'Observation')!.json).resourceType).toBe('Observation')
  })

  it('restricts to _type and allows a parameter every listed type defines the same way', async () => {
    const { scope, p1, p2, o1, c1 } = await world()
    expect(refs(await system(scope, '_type=Patient')).sort()).toEqual([`Patient/${p1}`, `Patient/${p2}`].sort())
    expect(refs(await system(scope, `_type=Observation,Condition&patient=${p2}`))).toEqual([`Condition/${c1}`])
    const both = await system(scope, '_type=Observation,Condition&_count=100')
    expect(refs(both).sort()).toEqual([`Condition/${c1}`, `Observation/${o1}`].sort())
    expect(both.total).toBe(2)
  })

  it('searches a parameter each listed type defines on its own with the same type by each definition (name on Patient and Practitioner)', async () => {
    const { scope, p1 } = await world()
    const [doc, other] = await seed(f.repo, scope, [
      { resourceType: 'Practitioner', name: [{ family: 'Anaya', given: ['José'] }] },
      { resourceType: 'Practitioner', name: [{ family: 'Bo' }] },
    ] as Resource[])
    expect(refs(await system(scope, '_type=Patient,Practitioner&name=ana')).sort()).toEqual([`Patient/${p1}`, `Practitioner/${doc}`].sort())
    expect(refs(await system(scope, '_type=Patient,Practitioner&name=jose'))).toEqual([`Practitioner/${doc}`])
    expect(refs(await system(scope, '_type=Practitioner&name:exact=Bo'))).toEqual([`Practitioner/${other}`])
    const page = await system(scope, '_type=Patient,Practitioner&name=bo&_total=accurate')
    expect(page.total).toBe(2)
    expect(page.request.used).toContainEqual(['name', 'bo'])
  })

  it('supports _text/_content, _has and _list at system level', async () => {
    const { scope, p1, c1 } = await world()
    expect(refs(await system(scope, '_content=diabetes'))).toEqual([`Condition/${c1}`])
    expect(refs(await system(scope, '_has:Observation:subject:status=final'))).toEqual([`Patient/${p1}`])
    const [list] = await seed(f.repo, scope, [{ resourceType: 'List', status: 'current', mode: 'working', entry: [{ item: { reference: `Condition/${c1}` } }, { item: { reference: `Patient/${p1}` } }] } as Resource])
    expect(refs(await system(scope, `_list=${list}`)).sort()).toEqual([`Condition/${c1}`, `Patient/${p1}`].sort())
  })

  it('pages across types with cursors, every match once, also sorted by -_lastUpdated', async () => {
    const { scope } = await world()
    const all = refs(await system(scope, '_count=100')).sort()
    for (const query of ['_count=2', '_count=1&_sort=-_lastUpdated', '_count=3&_type=Patient,Observation,Condition,List']) {
      const seen: string[] = []
      let page = await system(scope, query)
      for (let i = 0; i < 20; i++) {
        seen.push(...refs(page))
        if (!page.next) break
        page = await system(scope, `${query}&_cursor=${page.next}`)
      }
      const expected = query.includes('_type') ? all.filter((r) => !r.startsWith('Organization/')) : all
      expect(seen.sort()).toEqual(expected)
    }
  })

  it('orders -_lastUpdated newest first across types', async () => {
    const { scope } = await world()
    const page = await system(scope, '_sort=-_lastUpdated&_count=100')
    const times = page.entries.map((e) => e.lastUpdated)
    expect(times).toEqual([...times].sort().reverse())
  })

  it("never returns deleted resources nor another tenant's", async () => {
    const { scope, p1, o1 } = await world()
    await f.repo.delete(scope, 'Observation', o1)
    expect(refs(await system(scope, `_tag=${TAG}|vip`))).toEqual([`Patient/${p1}`])
    expect(refs(await system(await f.newTenant(), `_tag=${TAG}|vip`))).toEqual([])
  })

  it('answers 400 for a parameter not defined alike on every _type, an unknown type, a non-common sort', async () => {
    const { scope } = await world()
    const bad = (query: string, text: RegExp) => expect(system(scope, query)).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(text) })
    await bad('_type=CarePlan,Task&performer=x', /Parameter performer: 'performer' is of a different type on each of the listed types \(CarePlan reference, Task token\)/)
    await bad('_type=Patient,Observation&gender=male', /Parameter gender: Observation has no parameter 'gender'/)
    await bad('_type=Nope', /_type: 'Nope'/)
    await bad('_sort=name', /_sort/)
    await expect(system(scope, 'name=x', true)).rejects.toMatchObject({ kind: 'invalid' })
    expect((await system(scope, 'name=x')).request.ignored).toEqual(['name'])
  })
})
