import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

/** `_list` — https://hl7.org/fhir/R4/search.html#list */
describe('search: _list', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  async function world() {
    const scope = await f.newTenant()
    const patients = await seed(f.repo, scope, [1, 2, 3].map((i) => ({ resourceType: 'Patient', name: [{ family: `P${i}` }] }) as Resource))
    const [allergy] = await seed(f.repo, scope, [{ resourceType: 'AllergyIntolerance', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, patient: { reference: `Patient/${patients[0]}` } } as Resource])
    const list = (items: string[]): Resource => ({ resourceType: 'List', status: 'current', mode: 'working', entry: items.map((reference) => ({ item: { reference } })) })
    const lists = await seed(f.repo, scope, [list([`Patient/${patients[0]}`, `Patient/${patients[2]}`, `AllergyIntolerance/${allergy}`]), list([`Patient/${patients[1]}`])])
    return { scope, patients, allergy: allergy!, lists }
  }

  it("matches the resources of the searched type among the List's entry.item", async () => {
    const { scope, patients, allergy, lists } = await world()
    expect(await matchIds(f.repo, scope, 'Patient', `_list=${lists[0]}`)).toEqual(pick(patients, 0, 2))
    expect(await matchIds(f.repo, scope, 'AllergyIntolerance', `_list=${lists[0]}`)).toEqual([allergy])
    expect(await matchIds(f.repo, scope, 'Patient', `_list=${lists[0]},${lists[1]}`)).toEqual(pick(patients, 0, 1, 2))
    expect(await matchIds(f.repo, scope, 'Patient', `_list=${lists[0]}&family=p3`)).toEqual(pick(patients, 2))
  })

  it('follows the current version of the List, never a deleted one, never another tenant', async () => {
    const { scope, patients, lists } = await world()
    await f.repo.update(scope, { resourceType: 'List', id: lists[0]!, status: 'current', mode: 'working', entry: [{ item: { reference: `Patient/${patients[1]}` } }] })
    expect(await matchIds(f.repo, scope, 'Patient', `_list=${lists[0]}`)).toEqual(pick(patients, 1))
    await f.repo.delete(scope, 'List', lists[1]!)
    expect(await matchIds(f.repo, scope, 'Patient', `_list=${lists[1]}`)).toEqual([])
    const other = await f.newTenant()
    expect(await matchIds(f.repo, other, 'Patient', `_list=${lists[0]}`)).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', '_list=unknown-list')).toEqual([])
  })

  it('answers 400 for functional lists and malformed ids', async () => {
    const { scope } = await world()
    await expect(search(f.repo, scope, 'Patient', '_list=$current-allergies')).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/_list.*functional lists/) })
    await expect(search(f.repo, scope, 'Patient', '_list=a/b')).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/_list/) })
  })
})
