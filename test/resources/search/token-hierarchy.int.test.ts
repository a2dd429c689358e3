import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

const CS = 'http://example.org/cs/conditions'
const ICD = 'http://hl7.org/fhir/sid/icd-10'

/** Token `:in`, `:not-in`, `:below`, `:above` — https://hl7.org/fhir/R4/search.html#token */
describe('search: token terminology modifiers', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  /** A CodeSystem (cardio > {heart-failure > acute-hf, arrhythmia}), ValueSets over it, five Conditions. */
  async function world() {
    const scope = await f.newTenant()
    await seed(f.repo, scope, [
      {
        resourceType: 'CodeSystem', url: CS, status: 'active', content: 'complete',
        concept: [{ code: 'cardio', concept: [{ code: 'heart-failure', concept: [{ code: 'acute-hf' }] }, { code: 'arrhythmia' }] }, { code: 'diabetes' }],
      },
      { resourceType: 'ValueSet', url: 'http://example.org/vs/listed', status: 'active', compose: { include: [{ system: CS, concept: [{ code: 'arrhythmia' }, { code: 'diabetes' }] }] } },
      { resourceType: 'ValueSet', url: 'http://example.org/vs/icd-all', status: 'active', compose: { include: [{ system: ICD }], exclude: [{ system: ICD, concept: [{ code: 'E11' }] }] } },
      { resourceType: 'ValueSet', url: 'http://example.org/vs/is-a', status: 'active', compose: { include: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'heart-failure' }] }] } },
    ] as Resource[])
    const cond = (system: string, code: string): Resource => ({ resourceType: 'Condition', subject: { reference: 'Patient/p' }, code: { coding: [{ system, code }] } })
    const ids = await seed(f.repo, scope, [cond(CS, 'acute-hf'), cond(CS, 'arrhythmia'), cond(CS, 'diabetes'), cond(ICD, 'I10'), cond(ICD, 'E11')])
    return { scope, ids }
  }

  it(':in expands concept lists, whole-system includes less exclusions, and is-a filters', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Condition', 'code:in=http://example.org/vs/listed')).toEqual(pick(ids, 1, 2))
    expect(await matchIds(f.repo, scope, 'Condition', 'code:in=http://example.org/vs/icd-all')).toEqual(pick(ids, 3))
    expect(await matchIds(f.repo, scope, 'Condition', 'code:in=http://example.org/vs/is-a')).toEqual(pick(ids, 0))
  })

  it(':in takes a ValueSet id; :not-in is the complement', async () => {
    const { scope, ids } = await world()
    const vs = await search(f.repo, scope, 'ValueSet', 'url=http://example.org/vs/listed')
    expect(await matchIds(f.repo, scope, 'Condition', `code:in=${vs.entries[0]!.id}`)).toEqual(pick(ids, 1, 2))
    expect(await matchIds(f.repo, scope, 'Condition', 'code:not-in=http://example.org/vs/listed')).toEqual(pick(ids, 0, 3, 4))
  })

  it(':below and :above walk the CodeSystem hierarchy', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Condition', `code:below=${CS}|cardio`)).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Condition', `code:below=${CS}|heart-failure`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Condition', `code:above=${CS}|acute-hf`)).toEqual(pick(ids, 0))
  })

  it('answers 400 naming the parameter for unknown terminology or a malformed value', async () => {
    const { scope } = await world()
    const bad = (query: string, text: RegExp) => expect(search(f.repo, scope, 'Condition', query)).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(text) })
    await bad('code:in=http://example.org/vs/unknown', /code:in.*not stored in this tenant/)
    await bad('code:below=http://unknown.org|x', /code:below.*CodeSystem http:\/\/unknown.org is not stored/)
    await bad('code:below=cardio', /code:below.*system\|code/)
    // Another tenant's ValueSets are not visible.
    await expect(search(f.repo, await f.newTenant(), 'Condition', 'code:in=http://example.org/vs/listed')).rejects.toMatchObject({ kind: 'invalid' })
  })
})
