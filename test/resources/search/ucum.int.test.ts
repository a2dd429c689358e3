import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, Quantity } from '@medplum/fhirtypes'
import { ucumCanonical, toCanonical } from '../../../src/resources/indexing/ucum.js'
import { isFhirError } from '../../../src/errors.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

const UCUM = 'http://unitsofmeasure.org'
const q = (value: number, code: string, system = UCUM): Quantity => ({ value, unit: code, system, code })

/** Quantity search in canonical UCUM units — https://hl7.org/fhir/R4/search.html#quantity */
describe('search: quantity in canonical UCUM units', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const valued = (valueQuantity: Quantity): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
    valueQuantity,
  })
  const matches = (scope: { tenantId: string }, value: string) => matchIds(f.repo, scope, 'Observation', `value-quantity=${encodeURIComponent(value)}`)

  it('matches mg, g and kg with one another, implicit precision converted too', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [valued(q(1, 'g')), valued(q(1000, 'mg')), valued(q(0.001, 'kg')), valued(q(1.2, 'g')), valued(q(1, 'mg'))])
    expect(await matches(scope, `1000|${UCUM}|mg`)).toEqual(pick(ids, 0, 1, 2))
    expect(await matches(scope, `1|${UCUM}|g`)).toEqual(pick(ids, 0, 1, 2, 3)) // 1 means [0.5, 1.5) g
    expect(await matches(scope, `1.0|${UCUM}|g`)).toEqual(pick(ids, 0, 1, 2)) // [0.95, 1.05) g
    expect(await matches(scope, `gt1100|${UCUM}|mg`)).toEqual(pick(ids, 3))
    expect(await matches(scope, `lt0.5|${UCUM}|g`)).toEqual(pick(ids, 4))
    // Bare numbers and `||unit` keep matching as written, never the canonical rows.
    expect(await matches(scope, '1')).toEqual(pick(ids, 0, 3, 4))
    expect(await matches(scope, '1||g')).toEqual(pick(ids, 0, 3))
  })

  it('matches cm with m, and mm[Hg] with kPa', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [valued(q(170, 'cm')), valued(q(1.7, 'm')), valued(q(120, 'mm[Hg]')), valued(q(16, 'kPa'))])
    expect(await matches(scope, `1.70|${UCUM}|m`)).toEqual(pick(ids, 0, 1))
    expect(await matches(scope, `170|${UCUM}|cm`)).toEqual(pick(ids, 0, 1))
    // 120 mm[Hg] = 15.99864 kPa; 16 kPa = 120.0102 mm[Hg].
    expect(await matches(scope, `16|${UCUM}|kPa`)).toEqual(pick(ids, 2, 3))
    expect(await matches(scope, `120|${UCUM}|mm[Hg]`)).toEqual(pick(ids, 2, 3))
  })

  it('converts the offset units Cel and [degF] through kelvin', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [valued(q(37, 'Cel')), valued(q(98.6, '[degF]')), valued(q(310.15, 'K')), valued(q(39, 'Cel'))])
    expect(await matches(scope, `98.6|${UCUM}|[degF]`)).toEqual(pick(ids, 0, 1, 2))
    expect(await matches(scope, `37|${UCUM}|Cel`)).toEqual(pick(ids, 0, 1, 2))
    expect(await matches(scope, `gt100|${UCUM}|[degF]`)).toEqual(pick(ids, 3))
    // A rate of an offset unit is not a temperature: no canonical form, matched as written.
    expect(ucumCanonical('Cel/h')).toBeUndefined()
    expect(toCanonical(ucumCanonical('[degF]')!, '32')).toBe('273.15')
  })

  it('keeps non-UCUM systems, unknown codes, other tenants and deleted or superseded versions out', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      valued(q(1000, 'mg', 'urn:local:units')), // 0: not UCUM
      valued(q(1, 'g')), // 1
      valued(q(1, 'g')), // 2: deleted
      valued(q(1, 'g')), // 3: superseded by 5 kg
      valued(q(1, '{tablet}')), // 4: annotation only
    ])
    await f.repo.delete(scope, 'Observation', ids[2]!)
    await f.repo.update(scope, { ...valued(q(5, 'kg')), id: ids[3]! })
    await seed(f.repo, await f.newTenant(), [valued(q(1000, 'mg'))])
    expect(await matches(scope, `1000|${UCUM}|mg`)).toEqual(pick(ids, 1))
    expect(await matches(scope, `5000|${UCUM}|g`)).toEqual(pick(ids, 3))
    expect(await matches(scope, `1000|urn:local:units|mg`)).toEqual(pick(ids, 0))
    expect(await matches(scope, `1|${UCUM}|{tablet}`)).toEqual(pick(ids, 4))
    expect(await matches(scope, `1|${UCUM}|[not_a_unit]`)).toEqual([])
  })

  it('matches values stored in the canonical unit (no canonical row of their own) from other units, and the reverse', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [valued(q(2, 'g')), valued(q(2000, 'mg')), valued(q(3, 'g')), valued(q(0.5, 'm')), valued(q(310, 'K'))])
    expect(await matches(scope, `2000|${UCUM}|mg`)).toEqual(pick(ids, 0, 1))
    expect(await matches(scope, `2|${UCUM}|g`)).toEqual(pick(ids, 0, 1))
    expect(await matches(scope, `gt2500|${UCUM}|mg`)).toEqual(pick(ids, 2))
    expect(await matches(scope, `0.002|${UCUM}|kg`)).toEqual(pick(ids, 0, 1))
    expect(await matches(scope, `50|${UCUM}|cm`)).toEqual(pick(ids, 3))
    expect(await matches(scope, `36.85|${UCUM}|Cel`)).toEqual(pick(ids, 4))
    // `||g` and bare numbers still compare as written.
    expect(await matches(scope, '2||g')).toEqual(pick(ids, 0))
    expect(await matches(scope, '2000')).toEqual(pick(ids, 1))
  })

  it('matches once when an older index still holds the canonical twin of a canonical-unit row', async () => {
    const scope = await f.newTenant()
    const [id] = await seed(f.repo, scope, [valued(q(2, 'g'))])
    const row = { tenant_id: scope.tenantId, resource_type: 'Observation', id: id!, param: 'value-quantity', ord: 0, low: '2', high: '2', code: 'g', unit: null }
    const pkey = sql<string>`search_key(${scope.tenantId}, 'Observation', 'value-quantity')`
    await f.db.db.insertInto('search_quantity').values({ ...row, pkey, system: 'urn:segimed:ucum-canonical' }).execute()
    expect(await matches(scope, `2000|${UCUM}|mg`)).toEqual([id])
    expect(await matches(scope, `2|${UCUM}|g`)).toEqual([id])
    expect(await matches(scope, '2')).toEqual([id])
  })

  it('rejects a malformed UCUM quantity with invalid naming the parameter', async () => {
    const scope = await f.newTenant()
    const error = await search(f.repo, scope, 'Observation', `value-quantity=gtabc|${UCUM}|mg`).catch((e: unknown) => e)
    expect(isFhirError(error) && error.kind).toBe('invalid')
    expect(isFhirError(error) && error.issues[0]?.expression).toEqual(['value-quantity'])
  })
})
