import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, Quantity } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

const UCUM = 'http://unitsofmeasure.org'

/** quantity parameters — https://hl7.org/fhir/R4/search.html#quantity */
describe('search: quantity parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const valued = (valueQuantity?: Quantity): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
    ...(valueQuantity ? { valueQuantity } : {}),
  })
  const weights = (scope: { tenantId: string }) =>
    seed(f.repo, scope, [
      valued({ value: 100, unit: 'kg', system: UCUM, code: 'kg' }), // 0
      valued({ value: 100.3, unit: 'kilograms', system: UCUM, code: 'kg' }), // 1
      valued({ value: 100, unit: 'lbs', system: UCUM, code: '[lb_av]' }), // 2
      valued({ value: 100, unit: 'mg' }), // 3: no system, no code
      valued({ value: 250, unit: 'kg', system: UCUM, code: 'kg', comparator: '<' }), // 4: below 250
      valued(), // 5
    ])

  it('matches value|system|code on the coded unit, with implicit precision', async () => {
    const scope = await f.newTenant()
    const ids = await weights(scope)
    expect(await matchIds(f.repo, scope, 'Observation', `value-quantity=100|${UCUM}|kg`)).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `value-quantity=100.0|${UCUM}|kg`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', `value-quantity=100|${UCUM}|[lb_av]`)).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity=100|urn:other|kg')).toEqual([])
  })

  it('matches value||unit on either the code or the human unit', async () => {
    const scope = await f.newTenant()
    const ids = await weights(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity=100||kg')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity=100||mg')).toEqual(pick(ids, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity=100||lbs')).toEqual(pick(ids, 2))
  })

  it('matches a bare number on any unit, and applies prefixes (a comparator makes an open range)', async () => {
    const scope = await f.newTenant()
    const ids = await weights(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity=100')).toEqual(pick(ids, 0, 1, 2, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity=gt100')).toEqual(pick(ids, 1, 4))
    // UCUM compares in canonical units: 100 [lb_av] is 45.4 kg (ucum.int.test.ts).
    expect(await matchIds(f.repo, scope, 'Observation', `value-quantity=lt100|${UCUM}|kg`)).toEqual(pick(ids, 2, 4))
    expect(await matchIds(f.repo, scope, 'Observation', `value-quantity=ge300|${UCUM}|kg`)).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'value-quantity:missing=true')).toEqual(pick(ids, 5))
  })

  it('rejects a malformed quantity with invalid naming the parameter', async () => {
    const scope = await f.newTenant()
    for (const bad of ['value-quantity=abc|x|y', 'value-quantity=5|x', 'value-quantity=gtx']) {
      const error = await search(f.repo, scope, 'Observation', bad).catch((e: unknown) => e)
      expect(isFhirError(error) && error.kind).toBe('invalid')
      expect(isFhirError(error) && error.issues[0]?.expression).toEqual(['value-quantity'])
    }
  })
})
