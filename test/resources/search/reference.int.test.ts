import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { matchIds, openSearchFixture, pick, search, seed, SERVER_URL, type SearchFixture } from './search-fixture.js'

/** reference parameters — https://hl7.org/fhir/R4/search.html#reference */
describe('search: reference parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const about = (subject?: Observation['subject']): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    ...(subject ? { subject } : {}),
  })
  const subjects = (scope: { tenantId: string }) =>
    seed(f.repo, scope, [
      about({ reference: 'Patient/p1' }), // 0
      about({ reference: `${SERVER_URL}/fhir/${scope.tenantId}/Patient/p1` }), // 1: absolute, this server
      about({ reference: 'Group/p1' }), // 2
      about({ reference: 'http://other.org/fhir/Patient/p1' }), // 3: another server
      about({ identifier: { system: 'urn:mrn', value: '123' } }), // 4: identifier only
      about(), // 5
      about({ reference: 'Patient/p2/_history/3' }), // 6: versioned
    ])

  it('matches an id on any target type, and Type/id on that type only', async () => {
    const scope = await f.newTenant()
    const ids = await subjects(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'subject=p1')).toEqual(pick(ids, 0, 1, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject=Patient/p1')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject=Group/p1')).toEqual(pick(ids, 2))
  })

  it('treats an absolute URL on this server as the local reference, and other URLs as themselves', async () => {
    const scope = await f.newTenant()
    const ids = await subjects(scope)
    const local = encodeURIComponent(`${SERVER_URL}/fhir/${scope.tenantId}/Patient/p1`)
    expect(await matchIds(f.repo, scope, 'Observation', `subject=${local}`)).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `subject=${encodeURIComponent('http://other.org/fhir/Patient/p1')}`)).toEqual(pick(ids, 3))
  })

  it('restricts the target type with :[type] and with the typed parameter (patient)', async () => {
    const scope = await f.newTenant()
    const ids = await subjects(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Patient=p1')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:Group=p1')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'patient=p1')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'patient=Patient/p1')).toEqual(pick(ids, 0, 1))
  })

  it('matches Reference.identifier with :identifier', async () => {
    const scope = await f.newTenant()
    const ids = await subjects(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:identifier=urn:mrn|123')).toEqual(pick(ids, 4))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:identifier=123')).toEqual(pick(ids, 4))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:identifier=urn:other|123')).toEqual([])
  })

  it('ignores versions in stored and searched references', async () => {
    const scope = await f.newTenant()
    const ids = await subjects(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'subject=Patient/p2')).toEqual(pick(ids, 6))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject=Patient/p2/_history/9')).toEqual(pick(ids, 6))
  })

  it('finds resources without the element through :missing (an identifier-only reference is present)', async () => {
    const scope = await f.newTenant()
    const ids = await subjects(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:missing=true')).toEqual(pick(ids, 5))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:missing=false')).toEqual(pick(ids, 0, 1, 2, 3, 4, 6))
  })

  it('matches OR lists and :not', async () => {
    const scope = await f.newTenant()
    const ids = await subjects(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'subject=Patient/p2,Group/p1')).toEqual(pick(ids, 2, 6))
    expect(await matchIds(f.repo, scope, 'Observation', 'subject:not=p1')).toEqual(pick(ids, 3, 4, 5, 6))
  })

  it('rejects a type modifier the parameter cannot point at, and a malformed reference', async () => {
    const scope = await f.newTenant()
    for (const bad of ['subject:Medication=1', 'subject:Patient=Group/1', 'subject=a/b/c', 'subject:Patinet=1']) {
      const error = await search(f.repo, scope, 'Observation', bad).catch((e: unknown) => e)
      expect(isFhirError(error) && error.kind).toBe('invalid')
      expect(isFhirError(error) && error.issues[0]?.expression?.[0]).toMatch(/^subject/)
    }
  })
})
