import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import { matchIds, openSearchFixture, pick, seed, type SearchFixture } from './search-fixture.js'

const div = (text: string) => ({ status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${text}</p></div>` })

/** `_text` and `_content` full text — https://hl7.org/fhir/R4/search.html#text */
describe('search: _text and _content', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  async function world() {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Condition', subject: { reference: 'Patient/p' }, text: div('Infarto agudo de <b>miocardio</b> &amp; arritmia'), code: { text: 'Heart attack' } },
      { resourceType: 'Condition', subject: { reference: 'Patient/p' }, text: div('Diabetes tipo 2'), code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] } },
      { resourceType: 'Condition', subject: { reference: 'Patient/p' }, code: { text: 'Cardiac arrhythmia, MIOCARDIO note' } },
    ] as Resource[])
    return { scope, ids }
  }

  it('_text matches words of the narrative only, ignoring case, accents and markup', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Condition', '_text=MIOCÁRDIO')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Condition', '_text=heart')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Condition', '_text=b')).toEqual([])
  })

  it('_content matches any string of the resource, codes and narrative included', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Condition', '_content=miocardio')).toEqual(pick(ids, 0, 2))
    expect(await matchIds(f.repo, scope, 'Condition', '_content=heart')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Condition', '_content=44054006')).toEqual(pick(ids, 1))
  })

  it('needs every word of a value (AND, each a word start); commas are OR', async () => {
    const { scope, ids } = await world()
    expect(await matchIds(f.repo, scope, 'Condition', '_content=diabetes tipo')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Condition', '_content=diabetes heart')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Condition', '_content=diab,arrhyth')).toEqual(pick(ids, 1, 2))
    expect(await matchIds(f.repo, scope, 'Condition', '_content=abetes')).toEqual([])
  })

  it('keeps one row for both parameters when the narrative holds every word, and both still match', async () => {
    const scope = await f.newTenant()
    // Every string of the first (subject references and dates are not words) is in its narrative.
    const ids = await seed(f.repo, scope, [
      { resourceType: 'Condition', subject: { reference: 'Patient/p' }, text: div('Asma bronquial'), code: { text: 'asma BRONQUIAL' } },
      { resourceType: 'Condition', subject: { reference: 'Patient/p' }, text: div('Asma'), code: { text: 'Asma alérgica' } },
    ] as Resource[])
    const params = async (id: string) =>
      (await f.db.db.selectFrom('search_text').select('param').where('tenant_id', '=', scope.tenantId).where('id', '=', id).execute()).map((r) => r.param).sort()
    expect(await params(ids[0]!)).toEqual(['_text,_content'])
    expect(await params(ids[1]!)).toEqual(['_content', '_text'])
    expect(await matchIds(f.repo, scope, 'Condition', '_text=bronquial')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Condition', '_content=bronquial')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Condition', '_text=asma')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Condition', '_content=alergica')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Condition', '_text=alergica')).toEqual([])
  })

  it('forgets the words of superseded and deleted versions, and of other tenants', async () => {
    const { scope, ids } = await world()
    await f.repo.update(scope, { resourceType: 'Condition', id: ids[0]!, subject: { reference: 'Patient/p' }, text: div('Resuelto') })
    await f.repo.delete(scope, 'Condition', ids[1]!)
    expect(await matchIds(f.repo, scope, 'Condition', '_text=miocardio')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Condition', '_text=resuelto')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Condition', '_content=diabetes')).toEqual([])
    expect(await matchIds(f.repo, await f.newTenant(), 'Condition', '_content=miocardio')).toEqual([])
  })
})
