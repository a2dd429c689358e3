import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { openSearchFixture, seed, type SearchFixture } from './search/search-fixture.js'

/**
 * Query-count guards (STYLE.md example 10) for the compartment walk and includes: a `$everything`
 * page is ONE statement whatever the number of types, and each `_include`/`_revinclude` round is one
 * statement after the page's own.
 */
let f: SearchFixture
beforeAll(async () => {
  f = await openSearchFixture()
})
afterAll(() => f.close())

async function record() {
  const scope = await f.newTenant()
  const [org] = await seed(f.repo, scope, [{ resourceType: 'Organization', name: 'Clinic' } as Resource])
  const [p] = await seed(f.repo, scope, [makePatient({ managingOrganization: { reference: `Organization/${org}` } })])
  const enc = { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${p}` } } as Resource
  await seed(f.repo, scope, [enc, ...Array.from({ length: 5 }, () => makeObservation({ subject: { reference: `Patient/${p}` } }))])
  return { scope, p: p!, org: org! }
}

describe('statements per page', () => {
  it('reads a $everything page, supporting resources included, in one statement', async () => {
    const { scope, p, org } = await record()
    f.statements.length = 0
    const page = await f.repo.everything(scope, { compartment: 'Patient', ids: [p], count: 3, supporting: true })
    expect(f.statements).toHaveLength(1)
    expect(page.entries).toHaveLength(3)
    expect(page.next).toBeDefined()
    f.statements.length = 0
    const rest = await f.repo.everything(scope, { compartment: 'Patient', ids: [p], count: 10, cursor: page.next, supporting: true })
    expect(f.statements).toHaveLength(1)
    expect(rest.entries).toHaveLength(4)
    expect([...page.entries, ...rest.entries].map((e) => e.resourceType).sort()).toEqual(['Encounter', ...Array(5).fill('Observation'), 'Patient'])
    expect(rest.included.map((e) => `${e.resourceType}/${e.id}`)).toEqual([`Organization/${org}`])
  })

  it('adds one statement per include round', async () => {
    const { scope, p } = await record()
    f.statements.length = 0
    const plain = await f.repo.search(scope, { resourceType: 'Observation', params: [['_total', 'none']] })
    const base = f.statements.length
    f.statements.length = 0
    const page = await f.repo.search(scope, {
      resourceType: 'Observation',
      params: [['_total', 'none'], ['_include', 'Observation:subject'], ['_include:iterate', 'Patient:organization']],
    })
    expect(plain.entries).toHaveLength(5)
    expect(page.included?.map((e) => e.resourceType).sort()).toEqual(['Organization', 'Patient'])
    expect(page.included?.find((e) => e.resourceType === 'Patient')?.id).toBe(p)
    // Round 1 finds the Patient, round 2 its Organization; a third round has no Patient to start
    // from, so it sends nothing.
    expect(f.statements.length - base).toBe(2)
  })
})
