import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Patient } from '@medplum/fhirtypes'
import { matchIds, openSearchFixture, pick, seed, type SearchFixture } from './search-fixture.js'

/** string parameters — https://hl7.org/fhir/R4/search.html#string */
describe('search: string parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const patients: Patient[] = [
    { resourceType: 'Patient', name: [{ family: 'Pérez', given: ['José', 'María'] }], address: [{ city: 'Córdoba', line: ['Av. Colón 100'], postalCode: 'X5000' }] },
    { resourceType: 'Patient', name: [{ family: 'JOSEPHSON', given: ['Ann'] }], address: [{ city: 'Boston' }] },
    { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Jo'], prefix: ['Dr.'] }] },
    { resourceType: 'Patient', name: [{ text: 'Carlos de la Peña' }] },
    { resourceType: 'Patient', gender: 'unknown' },
  ]

  it('matches by starts-with, ignoring case and accents: name=jose finds José and JOSEPHSON', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, patients)
    expect(await matchIds(f.repo, scope, 'Patient', 'name=jose')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'name=JOSÉ')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'family=perez')).toEqual(pick(ids, 0))
  })

  it('does not match in the middle of a value without :contains', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, patients)
    expect(await matchIds(f.repo, scope, 'Patient', 'name=ephson')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'name:contains=ephson')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'name:contains=PEÑA')).toEqual(pick(ids, 3))
  })

  it('matches :exact only on the value as written (case and accents count)', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, patients)
    expect(await matchIds(f.repo, scope, 'Patient', 'family:exact=Pérez')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'family:exact=Perez')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'family:exact=Pér')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'family:exact=pérez')).toEqual([])
  })

  it('searches every part of a HumanName and an Address', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, patients)
    expect(await matchIds(f.repo, scope, 'Patient', 'name=maria')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'name=dr.')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Patient', 'name=carlos de')).toEqual(pick(ids, 3))
    expect(await matchIds(f.repo, scope, 'Patient', 'address=cordoba')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'address=av. colon')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'address-postalcode=x50')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'address-city=bos')).toEqual(pick(ids, 1))
  })

  it('treats a comma list as OR and repeated parameters as AND', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, patients)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=smith,perez')).toEqual(pick(ids, 0, 2))
    expect(await matchIds(f.repo, scope, 'Patient', 'name=jose&name=maria')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'name=jose&address-city=boston')).toEqual(pick(ids, 1))
  })

  it('reads \\, as a literal comma, not an OR separator', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Patient', name: [{ text: 'Smith, John' }] },
      { resourceType: 'Patient', name: [{ text: 'Smith' }] },
    ])
    expect(await matchIds(f.repo, scope, 'Patient', 'name=smith\\, j')).toEqual(pick(ids, 0))
  })

  it('finds resources with and without the element through :missing', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, patients)
    expect(await matchIds(f.repo, scope, 'Patient', 'name:missing=true')).toEqual(pick(ids, 4))
    expect(await matchIds(f.repo, scope, 'Patient', 'name:missing=false')).toEqual(pick(ids, 0, 1, 2, 3))
    expect(await matchIds(f.repo, scope, 'Patient', 'address:missing=true')).toEqual(pick(ids, 2, 3, 4))
  })

  it('takes LIKE wildcards and quotes in values literally', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Patient', name: [{ family: "O'Brien" }] },
      { resourceType: 'Patient', name: [{ family: '100%_pure' }] },
      { resourceType: 'Patient', name: [{ family: 'Other' }] },
    ])
    expect(await matchIds(f.repo, scope, 'Patient', "family=o'b")).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'family:contains=%_')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'family=%')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', "family='); DROP TABLE resource; --")).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'family:contains=_')).toEqual(pick(ids, 1))
  })
})
