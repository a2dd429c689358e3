import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import type { RequestScope } from '../../../src/resources/index.js'
import { openSearchFixture, pick, seed, type SearchFixture } from './search-fixture.js'

/** Compartment search — https://hl7.org/fhir/R4/compartmentdefinition.html (`GET [base]/Patient/1/Observation`) */
describe('search: compartments', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const inCompartment = async (scope: RequestScope, compartment: { resourceType: string; id: string }, resourceType: string, query = '') => {
    const page = await f.repo.search(scope, { resourceType, params: [...new URLSearchParams(`${query}&_count=100`)], compartment })
    return page.entries.map((e) => e.id).sort()
  }

  async function world() {
    const scope = await f.newTenant()
    const [p1, p2, dr] = await seed(f.repo, scope, [
      { resourceType: 'Patient', name: [{ family: 'Uno' }] },
      { resourceType: 'Patient', name: [{ family: 'Dos' }] },
      { resourceType: 'Practitioner', name: [{ family: 'House' }] },
    ] as Resource[])
    const [enc] = await seed(f.repo, scope, [{ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${p1}` } } as Resource])
    const obs = (extra: object): Resource => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra }) as Resource
    const observations = await seed(f.repo, scope, [
      obs({ subject: { reference: `Patient/${p1}` }, encounter: { reference: `Encounter/${enc}` } }),
      obs({ subject: { reference: `Patient/${p2}` }, performer: [{ reference: `Patient/${p1}` }] }),
      obs({ subject: { reference: `Patient/${p2}` }, performer: [{ reference: `Practitioner/${dr}` }], status: 'amended' }),
    ])
    return { scope, p1: p1!, p2: p2!, dr: dr!, enc: enc!, observations }
  }

  it('Patient compartment: any of the definition parameters (subject, performer) refers to the patient', async () => {
    const { scope, p1, p2, observations } = await world()
    expect(await inCompartment(scope, { resourceType: 'Patient', id: p1 }, 'Observation')).toEqual(pick(observations, 0, 1))
    expect(await inCompartment(scope, { resourceType: 'Patient', id: p2 }, 'Observation', 'status=amended')).toEqual(pick(observations, 2))
    expect(await inCompartment(scope, { resourceType: 'Patient', id: p1 }, 'Patient')).toEqual([p1])
  })

  it('Encounter and Practitioner compartments use their R4 definitions', async () => {
    const { scope, dr, enc, observations } = await world()
    expect(await inCompartment(scope, { resourceType: 'Encounter', id: enc }, 'Observation')).toEqual(pick(observations, 0))
    expect(await inCompartment(scope, { resourceType: 'Practitioner', id: dr }, 'Observation')).toEqual(pick(observations, 2))
    expect(await inCompartment(scope, { resourceType: 'Encounter', id: enc }, 'Encounter')).toEqual([enc])
  })

  it("excludes deleted resources and other tenants' resources", async () => {
    const { scope, p1, observations } = await world()
    await f.repo.delete(scope, 'Observation', observations[0]!)
    expect(await inCompartment(scope, { resourceType: 'Patient', id: p1 }, 'Observation')).toEqual(pick(observations, 1))
    expect(await inCompartment(await f.newTenant(), { resourceType: 'Patient', id: p1 }, 'Observation')).toEqual([])
  })

  it('answers 400 for a type never in the compartment and for a compartment R4 does not define', async () => {
    const { scope, p1 } = await world()
    await expect(inCompartment(scope, { resourceType: 'Patient', id: p1 }, 'Organization')).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/Organization resources are never in the Patient compartment/) })
    await expect(inCompartment(scope, { resourceType: 'Organization', id: 'x' }, 'Patient')).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/not a compartment/) })
  })
})
