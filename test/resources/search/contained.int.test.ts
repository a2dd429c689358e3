import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isFhirError } from '../../../src/errors.js'
import { makePatient } from '../../fixtures/builders.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

/**
 * `_contained` / `_containedType` (https://hl7.org/fhir/R4/search.html#contained): contained
 * resources are not indexed, so the default (`false`, `container`) is served and the rest refused.
 */
describe('search: _contained', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  it('accepts _contained=false and _containedType=container as the default: containers match, contained never', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      makePatient({ name: [{ family: 'Ibarra' }] }),
      makePatient({ name: [{ family: 'Otero' }], contained: [makePatient({ id: 'c1', name: [{ family: 'Ibarra' }] })] } as never),
    ])
    await seed(f.repo, await f.newTenant(), [makePatient({ name: [{ family: 'Ibarra' }] })])
    expect(await matchIds(f.repo, scope, 'Patient', 'family=Ibarra&_contained=false&_containedType=container')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', 'family=Ibarra')).toEqual(pick(ids, 0))
  })

  it('refuses _contained=true|both and _containedType=contained with invalid naming the parameter', async () => {
    const scope = await f.newTenant()
    for (const [query, name] of [['_contained=true', '_contained'], ['_contained=both', '_contained'], ['_contained=maybe', '_contained'], ['_containedType=contained', '_containedType']] as const) {
      const error = await search(f.repo, scope, 'Patient', query).catch((e: unknown) => e)
      expect(isFhirError(error) && error.kind, query).toBe('invalid')
      expect(isFhirError(error) && error.issues[0]?.expression, query).toEqual([name])
      expect(isFhirError(error) && error.message, query).toMatch(/not supported/)
    }
  })
})
