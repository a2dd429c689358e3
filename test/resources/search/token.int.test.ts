import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, Patient } from '@medplum/fhirtypes'
import { matchIds, openSearchFixture, pick, seed, type SearchFixture } from './search-fixture.js'

const LOINC = 'http://loinc.org'
const SNOMED = 'http://snomed.info/sct'
const MR = { system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }

/** token parameters — https://hl7.org/fhir/R4/search.html#token */
describe('search: token parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const obs = (code: Observation['code'], extra: Partial<Observation> = {}): Observation => ({ resourceType: 'Observation', status: 'final', code, ...extra })
  const observations: Observation[] = [
    obs({ coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] }),
    obs({ coding: [{ system: SNOMED, code: '8867-4' }] }),
    obs({ coding: [{ code: '8867-4' }], text: 'Pulso cardíaco' }),
    obs({ coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, { status: 'preliminary' }),
    obs({ text: 'Free text only' }, { status: 'amended' }),
  ]

  it('matches code alone in any system, system|code, |code (no system) and system| (any code)', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, observations)
    expect(await matchIds(f.repo, scope, 'Observation', 'code=8867-4')).toEqual(pick(ids, 0, 1, 2))
    expect(await matchIds(f.repo, scope, 'Observation', `code=${LOINC}|8867-4`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code=|8867-4')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', `code=${LOINC}|`)).toEqual(pick(ids, 0, 3))
  })

  it('matches :not on resources without the code, including those without the element', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Patient', gender: 'male' },
      { resourceType: 'Patient', gender: 'female' },
      { resourceType: 'Patient' },
    ] satisfies Patient[])
    expect(await matchIds(f.repo, scope, 'Patient', 'gender:not=male')).toEqual(pick(ids, 1, 2))
    expect(await matchIds(f.repo, scope, 'Patient', 'gender:not=male,female')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Patient', 'gender=male,female')).toEqual(pick(ids, 0, 1))
  })

  it('matches :text on display and CodeableConcept.text by word start, ignoring case and accents', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, observations)
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=heart')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=RATE')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=cardiaco')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=blood pres')).toEqual(pick(ids, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=ate')).toEqual([])
  })

  it('matches :text on words after punctuation, as LOINC names write them, and takes regex characters literally', async () => {
    const scope = await f.newTenant()
    const coded = (display: string): Observation => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '1975-2', display }] } })
    const ids = await seed(f.repo, scope, [coded('Bilirubin.total [Mass/volume] in Serum or Plasma'), coded('Hemoglobin A1c/Hemoglobin.total in Blood'), coded('Subtotal (a+b)')])
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=total')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=volume')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=mass/vol')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', `code:text=${encodeURIComponent('(a+b)')}`)).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=a.b')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'code:text=otal')).toEqual([])
  })

  it('matches Identifier system|value and :of-type on the identifier type coding', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Patient', identifier: [{ system: 'urn:hospital', value: 'A-1', type: { coding: [MR] } }] },
      { resourceType: 'Patient', identifier: [{ system: 'urn:other', value: 'A-1' }] },
      { resourceType: 'Patient', identifier: [{ value: 'A-1' }] },
    ] satisfies Patient[])
    expect(await matchIds(f.repo, scope, 'Patient', 'identifier=A-1')).toEqual(pick(ids, 0, 1, 2))
    expect(await matchIds(f.repo, scope, 'Patient', 'identifier=urn:hospital|A-1')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'identifier=|A-1')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Patient', `identifier:of-type=${MR.system}|MR|A-1`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', `identifier:of-type=${MR.system}|MR|A-2`)).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'identifier=a-1')).toEqual([])
  })

  it('matches ContactPoint values (system is phone, email, ...), booleans and plain codes', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Patient', active: true, telecom: [{ system: 'phone', value: '+54 351 555' }, { system: 'email', value: 'ana@example.org' }] },
      { resourceType: 'Patient', active: false, telecom: [{ system: 'email', value: 'bob@example.org' }] },
      { resourceType: 'Patient' },
    ] satisfies Patient[])
    expect(await matchIds(f.repo, scope, 'Patient', `telecom=${encodeURIComponent('+54 351 555')}`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'telecom=email|bob@example.org')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'email=ana@example.org')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', `phone=${encodeURIComponent('+54 351 555')}`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'active=true')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'active=false')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'active:missing=true')).toEqual(pick(ids, 2))
  })

  it('combines OR values and AND parameters: status=final,amended&code=8867-4', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, observations)
    expect(await matchIds(f.repo, scope, 'Observation', 'status=preliminary,amended')).toEqual(pick(ids, 3, 4))
    expect(await matchIds(f.repo, scope, 'Observation', 'status=final&code=8867-4')).toEqual(pick(ids, 0, 1, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'status=preliminary&code=8867-4')).toEqual([])
  })

  it('compares codes case-sensitively and takes a \\| as part of the code', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [obs({ coding: [{ system: 'urn:x', code: 'a|b' }] }), obs({ coding: [{ system: 'urn:x', code: 'A' }] })])
    expect(await matchIds(f.repo, scope, 'Observation', 'code=urn:x|a\\|b')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code=a')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'code=A')).toEqual(pick(ids, 1))
  })
})
