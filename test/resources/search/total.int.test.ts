import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../../fixtures/builders.js'
import { openSearchFixture, search, seed, type SearchFixture } from './search-fixture.js'

const isCount = (statement: string) => /count\(\*\)/i.test(statement)

/**
 * Bundle.total without `_total` (https://hl7.org/fhir/R4/search.html#total): always exact, but a
 * first page that holds every match gives it without a count query.
 */
describe('search: Bundle.total', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const families = ['Ayala', 'Ayala', 'Ayala', 'Ayala', 'Bravo']
  const patients = async (scope: { tenantId: string }) => {
    const ids = await seed(f.repo, scope, families.map((family) => makePatient({ name: [{ family }] })))
    // Deleted and superseded versions never count.
    await f.repo.delete(scope, 'Patient', ids[3]!)
    await f.repo.update(scope, { ...makePatient({ name: [{ family: 'Cruz' }] }), id: ids[2]! })
    // Another clinic's Ayala never counts either.
    await seed(f.repo, await f.newTenant(), [makePatient({ name: [{ family: 'Ayala' }] })])
    return ids
  }

  it('takes the total from a first page that is the whole result, without a count query', async () => {
    const scope = await f.newTenant()
    const ids = await patients(scope)
    f.statements.length = 0
    const page = await search(f.repo, scope, 'Patient', 'family=Ayala&_count=10')
    expect(page.entries.map((e) => e.id).sort()).toEqual([ids[0]!, ids[1]!].sort())
    expect(page.total).toBe(2)
    expect(f.statements.filter(isCount)).toEqual([])
  })

  it('counts exactly when the first page is full', async () => {
    const scope = await f.newTenant()
    await patients(scope)
    f.statements.length = 0
    const page = await search(f.repo, scope, 'Patient', 'family=Ayala&_count=1')
    expect(page.entries).toHaveLength(1)
    expect(page.total).toBe(2)
    expect(f.statements.filter(isCount)).toHaveLength(1)
  })

  it('counts exactly on a later page, even the last one', async () => {
    const scope = await f.newTenant()
    await patients(scope)
    const first = await search(f.repo, scope, 'Patient', '_count=2')
    const all = families.length - 1
    expect(first.total).toBe(all)
    expect(first.next).toBeDefined()
    f.statements.length = 0
    const second = await search(f.repo, scope, 'Patient', `_count=2&_cursor=${encodeURIComponent(first.next!)}`)
    expect(second.entries).toHaveLength(all - 2)
    expect(second.next).toBeUndefined()
    expect(second.total).toBe(all)
    expect(f.statements.filter(isCount)).toHaveLength(1)
  })

  it('keeps _total=none without a total, and an empty result with total 0 and no count query', async () => {
    const scope = await f.newTenant()
    await patients(scope)
    expect((await search(f.repo, scope, 'Patient', 'family=Ayala&_total=none')).total).toBeUndefined()
    f.statements.length = 0
    const empty = await search(f.repo, scope, 'Patient', 'family=Nobody')
    expect(empty.total).toBe(0)
    expect(f.statements.filter(isCount)).toEqual([])
  })
})
