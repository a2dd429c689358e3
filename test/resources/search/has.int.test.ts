import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

const LOINC = 'http://loinc.org'

/** Reverse chaining — https://hl7.org/fhir/R4/search.html#has */
describe('search: _has', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  /** Three patients: the first with a 1234-5 observation, the second with 9999-9, the third none. */
  async function world() {
    const scope = await f.newTenant()
    const patients = await seed(f.repo, scope, [
      { resourceType: 'Patient', name: [{ family: 'Uno' }] },
      { resourceType: 'Patient', name: [{ family: 'Dos' }] },
      { resourceType: 'Patient', name: [{ family: 'Tres' }] },
    ] as Resource[])
    const obs = (patient: string, code: string): Resource => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code }] }, subject: { reference: `Patient/${patient}` } })
    const observations = await seed(f.repo, scope, [obs(patients[0]!, '1234-5'), obs(patients[1]!, '9999-9')])
    return { scope, patients, observations }
  }

  it('finds the patients some Observation with the code refers to', async () => {
    const { scope, patients } = await world()
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:code=1234-5')).toEqual(pick(patients, 0))
    expect(await matchIds(f.repo, scope, 'Patient', `_has:Observation:subject:code=${LOINC}|1234-5,9999-9`)).toEqual(pick(patients, 0, 1))
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:code=0000-0')).toEqual([])
  })

  it('ANDs with other parameters and other _has, and applies modifiers of the inner parameter', async () => {
    const { scope, patients } = await world()
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:code=1234-5&family=dos')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:code:not=1234-5')).toEqual(pick(patients, 1))
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:status=final&_has:Observation:patient:code=9999-9')).toEqual(pick(patients, 1))
  })

  it('nests: patients with an Observation that a Provenance by Practitioner/dr targets', async () => {
    const { scope, patients, observations } = await world()
    await seed(f.repo, scope, [
      { resourceType: 'Provenance', recorded: '2024-01-01T00:00:00Z', target: [{ reference: `Observation/${observations[1]}` }], agent: [{ who: { reference: 'Practitioner/dr' } }] },
    ] as Resource[])
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:_has:Provenance:target:agent=Practitioner/dr')).toEqual(pick(patients, 1))
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:_has:Provenance:target:agent=Practitioner/other')).toEqual([])
  })

  it('takes a chained inner parameter: _has:Observation:patient:performer:Practitioner.name', async () => {
    const { scope, patients } = await world()
    const [dr] = await seed(f.repo, scope, [{ resourceType: 'Practitioner', name: [{ family: 'House' }] }])
    await seed(f.repo, scope, [
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patients[2]}` }, performer: [{ reference: `Practitioner/${dr}` }] },
    ] as Resource[])
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:performer:Practitioner.name=house')).toEqual(pick(patients, 2))
  })

  it('never counts deleted or superseded referring resources, nor other tenants', async () => {
    const { scope, patients, observations } = await world()
    await f.repo.delete(scope, 'Observation', observations[0]!)
    await f.repo.update(scope, { resourceType: 'Observation', id: observations[1]!, status: 'final', code: { coding: [{ system: LOINC, code: '1234-5' }] }, subject: { reference: `Patient/${patients[2]}` } })
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:code=1234-5')).toEqual(pick(patients, 2))
    const other = await f.newTenant()
    await seed(f.repo, other, [{ resourceType: 'Observation', status: 'final', code: { coding: [{ code: '7777-7' }] }, subject: { reference: `Patient/${patients[0]}` } }] as Resource[])
    expect(await matchIds(f.repo, scope, 'Patient', '_has:Observation:patient:code=7777-7')).toEqual([])
  })

  it('answers 400 naming the parameter for malformed _has', async () => {
    const { scope } = await world()
    const bad = (query: string, text: RegExp) => expect(search(f.repo, scope, 'Patient', query)).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(text) })
    await bad('_has:Observation:patient=1', /_has:Observation:patient.*_has:Type:reference:parameter/)
    await bad('_has:Nope:patient:code=1', /Nope is not a resource type/)
    await bad('_has:Observation:status:code=1', /no reference search parameter 'status'/)
    await bad('_has:Observation:patient:nope=1', /_has:Observation:patient:nope.*no search parameter 'nope'/)
    await bad('_has:Observation:patient:date=notadate', /_has:Observation:patient:date/)
    await expect(search(f.repo, scope, 'Practitioner', '_has:Observation:patient:code=1')).rejects.toMatchObject({ message: expect.stringMatching(/does not refer to Practitioner/) })
  })
})
