import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Patient } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { createPgRepository } from '../../../src/resources/index.js'
import { matchIds, openSearchFixture, pick, search, seed, SERVER_URL, type SearchFixture } from './search-fixture.js'

/** Parameters for all resources — https://hl7.org/fhir/R4/search.html#all — and search-wide rules. */
describe('search: common parameters and rules', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  it('matches _id with an OR list and _id:not', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [{ resourceType: 'Patient' }, { resourceType: 'Patient' }, { resourceType: 'Patient' }])
    expect(await matchIds(f.repo, scope, 'Patient', `_id=${ids[0]},${ids[2]}`)).toEqual(pick(ids, 0, 2))
    expect(await matchIds(f.repo, scope, 'Patient', `_id:not=${ids[0]}`)).toEqual(pick(ids, 1, 2))
    expect(await matchIds(f.repo, scope, 'Patient', `_id=${encodeURIComponent("' or 1=1--")}`)).toEqual([])
  })

  it('matches _lastUpdated with date prefixes on the instant of each version', async () => {
    const times = ['2024-01-01T10:00:00.000Z', '2024-01-02T10:00:00.000Z', '2024-01-03T10:00:00.000Z']
    let now = new Date(times[0]!)
    const repo = createPgRepository({ db: f.db.db, serverUrl: SERVER_URL, clock: () => now })
    const scope = await f.newTenant()
    const ids: string[] = []
    for (const t of times) {
      now = new Date(t)
      ids.push((await repo.create(scope, { resourceType: 'Patient' })).stored.id)
    }
    expect(await matchIds(repo, scope, 'Patient', '_lastUpdated=2024-01-02')).toEqual(pick(ids, 1))
    expect(await matchIds(repo, scope, 'Patient', '_lastUpdated=gt2024-01-01')).toEqual(pick(ids, 1, 2))
    expect(await matchIds(repo, scope, 'Patient', '_lastUpdated=ge2024-01-02T10:00:00Z')).toEqual(pick(ids, 1, 2))
    expect(await matchIds(repo, scope, 'Patient', '_lastUpdated=lt2024-01-02T10:00:00Z')).toEqual(pick(ids, 0))
    expect(await matchIds(repo, scope, 'Patient', '_lastUpdated=le2024-01-02')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(repo, scope, 'Patient', '_lastUpdated=ne2024-01-02')).toEqual(pick(ids, 0, 2))
    expect(await matchIds(repo, scope, 'Patient', '_lastUpdated=sa2024-01-01&_lastUpdated=eb2024-01-03')).toEqual(pick(ids, 1))
  })

  it('matches _tag and _security tokens, _profile and _source uris from meta', async () => {
    const scope = await f.newTenant()
    const profile = 'http://hl7.org/fhir/StructureDefinition/Patient'
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Patient', meta: { tag: [{ system: 'urn:tags', code: 'vip' }], profile: [profile], source: 'urn:lab:1' } },
      { resourceType: 'Patient', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } },
      { resourceType: 'Patient' },
    ])
    expect(await matchIds(f.repo, scope, 'Patient', '_tag=urn:tags|vip')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', '_tag:not=vip')).toEqual(pick(ids, 1, 2))
    expect(await matchIds(f.repo, scope, 'Patient', '_security=R')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Patient', `_profile=${encodeURIComponent(profile)}`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Patient', '_source=urn:lab:1')).toEqual(pick(ids, 0))
  })

  it('never matches superseded or deleted versions', async () => {
    const scope = await f.newTenant()
    const [id] = await seed(f.repo, scope, [{ resourceType: 'Patient', name: [{ family: 'Old' }] }])
    await f.repo.update(scope, { resourceType: 'Patient', id, name: [{ family: 'New' }] } as Patient)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=old')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'family=new')).toEqual([id])
    await f.repo.delete(scope, 'Patient', id!)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=new')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'family:missing=true')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'gender:not=male')).toEqual([])
    expect((await search(f.repo, scope, 'Patient', '')).total).toBe(0)
    await f.repo.update(scope, { resourceType: 'Patient', id, name: [{ family: 'Back' }] } as Patient)
    expect(await matchIds(f.repo, scope, 'Patient', 'family=back')).toEqual([id])
  })

  it('re-indexes a patched resource', async () => {
    const scope = await f.newTenant()
    const [id] = await seed(f.repo, scope, [{ resourceType: 'Patient', gender: 'male' }])
    await f.repo.patch(scope, 'Patient', id!, { kind: 'json-patch', operations: [{ op: 'replace', path: '/gender', value: 'female' }] })
    expect(await matchIds(f.repo, scope, 'Patient', 'gender=male')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Patient', 'gender=female')).toEqual([id])
  })

  it('never shows another tenant its resources', async () => {
    const a = await f.newTenant()
    const b = await f.newTenant()
    await seed(f.repo, a, [{ resourceType: 'Patient', name: [{ family: 'Isolated' }] }])
    expect(await matchIds(f.repo, b, 'Patient', 'family=isolated')).toEqual([])
    expect((await search(f.repo, b, 'Patient', 'family=isolated')).total).toBe(0)
  })

  it('ignores an unknown parameter (and reports it), unless strict handling makes it invalid', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [{ resourceType: 'Patient', gender: 'male' }])
    const page = await search(f.repo, scope, 'Patient', 'gender=male&colour=blue')
    expect(page.entries.map((e) => e.id)).toEqual(ids)
    expect(page.request.ignored).toEqual(['colour'])
    expect(page.request.used).toEqual([['gender', 'male'], ['_count', '20']])
    const error = await search(f.repo, scope, 'Patient', 'gender=male&colour=blue', { strict: true }).catch((e: unknown) => e)
    expect(isFhirError(error) && error.issues[0]).toMatchObject({ expression: ['colour'], messageId: 'MSG_PARAM_UNKNOWN' })
  })

  it('rejects an unsupported modifier, a bad :missing value and bad result parameters, naming the parameter', async () => {
    const scope = await f.newTenant()
    const cases: [string, string][] = [
      ['gender:exact=male', 'gender:exact'],
      ['name:below=x', 'name:below'],
      ['gender:missing=maybe', 'gender:missing'],
      ['_count=-1', '_count'],
      ['_total=some', '_total'],
      ['_sort=colour', '_sort'],
      ['_summary=maybe', '_summary'],
      ['_cursor=not-a-cursor', '_cursor'],
    ]
    for (const [query, name] of cases) {
      const error = await search(f.repo, scope, 'Patient', query).catch((e: unknown) => e)
      expect(isFhirError(error) && error.kind, query).toBe('invalid')
      expect(isFhirError(error) && error.issues[0]?.expression, query).toEqual([name])
    }
  })

  it('survives hostile values in every parameter type', async () => {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [{ resourceType: 'Patient', name: [{ family: 'Safe' }] }])
    const hostile = ["'; DELETE FROM resource; --", '\\', '$$', '%', '\u0000x', 'a'.repeat(3000), '\\,\\|\\$']
    for (const value of hostile) {
      for (const name of ['name', 'identifier', 'general-practitioner', 'link', '_id', 'name:contains']) {
        const page = await search(f.repo, scope, 'Patient', `${name}=${encodeURIComponent(value)}`).catch((e: unknown) => e)
        if (isFhirError(page)) expect(page.kind).toBe('invalid')
        else expect(page).toMatchObject({ total: 0 })
      }
    }
    expect(await matchIds(f.repo, scope, 'Patient', 'family=safe')).toHaveLength(1)
  })
})
