import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

const LOINC = 'http://loinc.org'
const UCUM = 'http://unitsofmeasure.org'
const SYSTOLIC = '8480-6'
const DIASTOLIC = '8462-4'

/** composite parameters — https://hl7.org/fhir/R4/search.html#composite */
describe('search: composite parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const mmHg = (value: number) => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' })
  const bloodPressure = (systolic: number, diastolic: number): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    component: [
      { code: { coding: [{ system: LOINC, code: SYSTOLIC }] }, valueQuantity: mmHg(systolic) },
      { code: { coding: [{ system: LOINC, code: DIASTOLIC }] }, valueQuantity: mmHg(diastolic) },
    ],
  })
  const weight = (kg: number): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '29463-7' }] },
    valueQuantity: { value: kg, unit: 'kg', system: UCUM, code: 'kg' },
  })

  it('matches component-code-value-quantity only when code and value are on the same component', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [bloodPressure(120, 80), bloodPressure(80, 120)])
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${LOINC}|${SYSTOLIC}$gt100`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${SYSTOLIC}$lt100`)).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${DIASTOLIC}$gt100|${UCUM}|mm[Hg]`)).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${SYSTOLIC}$gt100,${DIASTOLIC}$gt100`)).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${SYSTOLIC}$gt100&component-code-value-quantity=${DIASTOLIC}$gt100`)).toEqual([])
  })

  it('matches code-value-quantity on the Observation code and value', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [weight(70), weight(90), bloodPressure(120, 80)])
    expect(await matchIds(f.repo, scope, 'Observation', `code-value-quantity=${LOINC}|29463-7$gt80|${UCUM}|kg`)).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=29463-7$70')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=85354-9$120')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'combo-code-value-quantity=8480-6$120')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity:missing=true')).toEqual(pick(ids, 2))
  })

  it('rejects a value without one part per component', async () => {
    const scope = await f.newTenant()
    const error = await search(f.repo, scope, 'Observation', 'code-value-quantity=29463-7').catch((e: unknown) => e)
    expect(isFhirError(error) && error.kind).toBe('invalid')
    expect(isFhirError(error) && error.issues[0]?.expression).toEqual(['code-value-quantity'])
  })
})
