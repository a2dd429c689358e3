import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ValueSet } from '@medplum/fhirtypes'
import { matchIds, openSearchFixture, pick, seed, type SearchFixture } from './search-fixture.js'

/** uri parameters — https://hl7.org/fhir/R4/search.html#uri (ValueSet.url) */
describe('search: uri parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const valueSet = (url?: string): ValueSet => ({ resourceType: 'ValueSet', status: 'active', ...(url ? { url } : {}) })
  const urls = (scope: { tenantId: string }) =>
    seed(f.repo, scope, [
      valueSet('http://acme.org/fhir/ValueSet/123'), // 0
      valueSet('http://acme.org/fhir/ValueSet/1234'), // 1
      valueSet('http://acme.org/fhir'), // 2
      valueSet('http://other.org/ValueSet/123'), // 3
      valueSet(), // 4
    ])
  const q = (modifier: string, value: string) => `url${modifier}=${encodeURIComponent(value)}`

  it('matches the whole uri exactly and case-sensitively', async () => {
    const scope = await f.newTenant()
    const ids = await urls(scope)
    expect(await matchIds(f.repo, scope, 'ValueSet', q('', 'http://acme.org/fhir/ValueSet/123'))).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'ValueSet', q('', 'http://acme.org/fhir/ValueSet/12'))).toEqual([])
    expect(await matchIds(f.repo, scope, 'ValueSet', q('', 'HTTP://ACME.ORG/fhir/ValueSet/123'))).toEqual([])
  })

  it('matches :below on every uri that starts with the value', async () => {
    const scope = await f.newTenant()
    const ids = await urls(scope)
    expect(await matchIds(f.repo, scope, 'ValueSet', q(':below', 'http://acme.org/fhir/'))).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'ValueSet', q(':below', 'http://acme.org/fhir'))).toEqual(pick(ids, 0, 1, 2))
  })

  it('matches :above on the uri and its parents', async () => {
    const scope = await f.newTenant()
    const ids = await urls(scope)
    expect(await matchIds(f.repo, scope, 'ValueSet', q(':above', 'http://acme.org/fhir/ValueSet/123'))).toEqual(pick(ids, 0, 2))
    expect(await matchIds(f.repo, scope, 'ValueSet', q(':above', 'http://acme.org/fhir/ValueSet/123/_history/2'))).toEqual(pick(ids, 0, 2))
  })

  it('finds resources without the element through :missing', async () => {
    const scope = await f.newTenant()
    const ids = await urls(scope)
    expect(await matchIds(f.repo, scope, 'ValueSet', 'url:missing=true')).toEqual(pick(ids, 4))
  })
})
