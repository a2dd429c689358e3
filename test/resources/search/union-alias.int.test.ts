import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, Patient } from '@medplum/fhirtypes'
import type { RequestScope } from '../../../src/resources/index.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

const LOINC = 'http://loinc.org'
const UCUM = 'http://unitsofmeasure.org'
const [A, B, C, D] = ['1000-1', '2000-2', '3000-3', '4000-4']
const TABLES = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri'] as const

const concept = (code: string) => ({ coding: [{ system: LOINC, code }] })
const ucum = (value: number, code: string) => ({ value, unit: code, system: UCUM, code })
const observation = (code: string, more: Partial<Observation> = {}): Observation => ({ resourceType: 'Observation', status: 'final', code: concept(code), ...more })

/**
 * Parameters that are unions of others (src/resources/indexing/union-alias.ts) write no rows of
 * their own and are searched through their members' rows: every answer here must equal the union
 * semantics of R4 (`combo-code` = `Observation.code | Observation.component.code`, `patient` =
 * `Observation.subject.where(resolve() is Patient)`), computed from what the test writes.
 */
describe('search: union-alias parameters', () => {
  let f: SearchFixture
  let scope: RequestScope
  /** Patients p1 (Alpha), p2 (Beta) and Group g, then the Observations below by position. */
  let p1: string, p2: string, g: string
  let ids: string[]
  beforeAll(async () => {
    f = await openSearchFixture()
    scope = await f.newTenant()
    const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] })
    ;[p1, p2] = (await seed(f.repo, scope, [patient('Alpha'), patient('Beta')])) as [string, string]
    ;[g] = (await seed(f.repo, scope, [{ resourceType: 'Group', type: 'person', actual: true }])) as [string]
    ids = await seed(f.repo, scope, [
      observation(A, { subject: { reference: `Patient/${p1}` }, valueQuantity: ucum(70, 'kg') }), // 0
      observation(B, {
        subject: { reference: `Patient/${p2}` },
        component: [
          { code: concept(A), valueQuantity: ucum(120, 'mm[Hg]') },
          { code: concept(C), valueQuantity: ucum(80, 'mm[Hg]') },
        ],
      }), // 1
      observation(C, { subject: { reference: `Group/${g}` }, dataAbsentReason: concept('not-asked') }), // 2
      observation(D, { subject: { reference: 'http://other.example/fhir/Patient/ext' }, valueQuantity: ucum(1.5, 'kg') }), // 3
      observation(D, { subject: { type: 'Patient', identifier: { system: 'urn:mrn', value: '42' } } }), // 4
      // The root has code A and 1500 g; the component code C and 70 kg: A never pairs with 70 kg.
      observation(A, { subject: { reference: `Patient/${p1}` }, valueQuantity: ucum(1500, 'g'), component: [{ code: concept(C), valueQuantity: ucum(70, 'kg') }] }), // 5
    ])
  })
  afterAll(() => f.close())

  const found = (query: string, type = 'Observation') => matchIds(f.repo, scope, type, query)
  /** The union of what each query finds: the semantics a union parameter must reproduce. */
  const union = async (...queries: string[]) => [...new Set((await Promise.all(queries.map((q) => found(q)))).flat())].sort()
  const all = () => found('')

  it('combo-code matches the Observation code and any component code', async () => {
    expect(await found(`combo-code=${A}`)).toEqual(pick(ids, 0, 1, 5))
    expect(await found(`combo-code=${A}`)).toEqual(await union(`code=${A}`, `component-code=${A}`))
    expect(await found(`combo-code=${LOINC}|${C}`)).toEqual(pick(ids, 1, 2, 5))
    expect(await found(`combo-code=${LOINC}|${C}`)).toEqual(await union(`code=${LOINC}|${C}`, `component-code=${LOINC}|${C}`))
    expect(await found(`combo-code=${B},${D}`)).toEqual(pick(ids, 1, 3, 4))
  })

  it('combo-code:not keeps only Observations where neither the code nor a component code matches', async () => {
    const either = await union(`code=${A}`, `component-code=${A}`)
    expect(await found(`combo-code:not=${A}`)).toEqual((await all()).filter((id) => !either.includes(id)))
    expect(await found(`combo-code:not=${A}`)).toEqual(pick(ids, 2, 3, 4))
  })

  it('combo-code:missing and combo-data-absent-reason:missing read the members rows', async () => {
    expect(await found('combo-code:missing=false')).toEqual(await all())
    expect(await found('combo-code:missing=true')).toEqual([])
    expect(await found('combo-data-absent-reason:missing=false')).toEqual(pick(ids, 2))
    expect(await found('combo-data-absent-reason:missing=true')).toEqual(pick(ids, 0, 1, 3, 4, 5))
  })

  it('combo-value-quantity compares values with prefixes and units, including the UCUM canonical unit', async () => {
    expect(await found('combo-value-quantity=gt100')).toEqual(pick(ids, 1, 5))
    expect(await found('combo-value-quantity=gt100')).toEqual(await union('value-quantity=gt100', 'component-value-quantity=gt100'))
    expect(await found(`combo-value-quantity=70|${UCUM}|kg`)).toEqual(pick(ids, 0, 5))
    expect(await found(`combo-value-quantity=le80|${UCUM}|mm[Hg]`)).toEqual(pick(ids, 1))
    // 1.5 kg is 1500 g: the kg value and the gram value both match in canonical units.
    expect(await found(`combo-value-quantity=1.5|${UCUM}|kg`)).toEqual(pick(ids, 3, 5))
    expect(await found(`combo-value-quantity=1500|${UCUM}|g`)).toEqual(await union(`value-quantity=1500|${UCUM}|g`, `component-value-quantity=1500|${UCUM}|g`))
    expect(await found('combo-value-quantity:missing=true')).toEqual(pick(ids, 2, 4))
  })

  it('combo-code-value-quantity matches code and value on the root or on one component, never across them', async () => {
    expect(await found(`combo-code-value-quantity=${A}$70`)).toEqual(pick(ids, 0))
    expect(await found(`combo-code-value-quantity=${A}$120`)).toEqual(pick(ids, 1))
    expect(await found(`combo-code-value-quantity=${C}$70|${UCUM}|kg`)).toEqual(pick(ids, 5))
    expect(await found(`combo-code-value-quantity=${C}$120`)).toEqual([])
    expect(await found(`combo-code-value-quantity=${B}$120`)).toEqual([])
    expect(await found(`combo-code-value-quantity=${A}$gt100`)).toEqual(await union(`code-value-quantity=${A}$gt100`, `component-code-value-quantity=${A}$gt100`))
    expect(await found(`combo-code-value-quantity=${A}$gt100`)).toEqual(pick(ids, 1, 5))
    expect(await found('combo-code-value-quantity:missing=true')).toEqual(pick(ids, 2, 4))
  })

  it('patient matches the subject references to a Patient, and none to another type', async () => {
    expect(await found(`patient=${p1}`)).toEqual(pick(ids, 0, 5))
    expect(await found(`patient=Patient/${p2}`)).toEqual(pick(ids, 1))
    expect(await found(`subject=${g}`)).toEqual(pick(ids, 2))
    expect(await found(`patient=${g}`)).toEqual([])
    expect(await found(`patient=${encodeURIComponent('http://other.example/fhir/Patient/ext')}`)).toEqual(pick(ids, 3))
    expect(await found('patient:identifier=urn:mrn|42')).toEqual(pick(ids, 4))
    expect(await found(`patient:not=${p1}`)).toEqual(pick(ids, 1, 2, 3, 4))
  })

  it('patient:missing counts external and identifier-only references to a Patient, not a Group subject', async () => {
    expect(await found('patient:missing=true')).toEqual(pick(ids, 2))
    expect(await found('patient:missing=false')).toEqual(pick(ids, 0, 1, 3, 4, 5))
  })

  it('chains and reverse-chains through patient', async () => {
    expect(await found('patient.name=Alpha')).toEqual(pick(ids, 0, 5))
    expect(await found('patient.name=Alpha')).toEqual(await found('subject:Patient.name=Alpha'))
    expect(await found(`_has:Observation:patient:code=${A}`, 'Patient')).toEqual([p1])
    expect(await found(`_has:Observation:patient:combo-code=${A}`, 'Patient')).toEqual([p1, p2].sort())
    expect(await found(`_has:Observation:patient:code=${C}`, 'Patient')).toEqual([])
  })

  it('_include and _revinclude follow patient to the Patients only', async () => {
    const included = await search(f.repo, scope, 'Observation', `_id=${ids[0]},${ids[1]},${ids[2]}&_include=Observation:patient`)
    expect((included.included ?? []).map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual([`Patient/${p1}`, `Patient/${p2}`].sort())
    const reverse = await search(f.repo, scope, 'Patient', `_id=${p1}&_revinclude=Observation:patient`)
    expect((reverse.included ?? []).map((r) => r.id).sort()).toEqual(pick(ids, 0, 5))
  })

  it('sorts by combo-value-quantity over its members\' quantity rows as written (value and component values)', async () => {
    const page = await search(f.repo, scope, 'Observation', '_sort=-combo-value-quantity&_count=3')
    // Descending by each resource's largest value: 1500 g (written as 1500), 120 mm[Hg], 70 kg.
    expect(page.entries.map((e) => e.id)).toEqual([ids[5], ids[1], ids[0]])
    // Ascending by the smallest: 1.5 kg, 70 kg and 70 kg (a component of 5; ties by id), 80 mm[Hg] (a component), then none.
    const ascending = await search(f.repo, scope, 'Observation', '_sort=combo-value-quantity&_count=100')
    expect(ascending.entries.map((e) => e.id)).toEqual([ids[3], ...[ids[0], ids[5]].sort(), ids[1], ...[ids[2], ids[4]].sort()])
  })

  it('sorts by patient over the subject rows that point to a Patient, resources without one last', async () => {
    const keyed: [string, string][] = [
      [`Patient/${p1}`, ids[0]!],
      [`Patient/${p2}`, ids[1]!],
      ['http://other.example/fhir/Patient/ext', ids[3]!],
      [`Patient/${p1}`, ids[5]!],
    ]
    const byKey = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
    const without = [ids[2]!, ids[4]!].sort()
    const walk = async (query: string) => (await search(f.repo, scope, 'Observation', `${query}&_count=100`)).entries.map((e) => e.id)
    expect(await walk('_sort=patient')).toEqual([...[...keyed].sort(byKey).map(([, id]) => id), ...without])
    const descending = [...keyed].sort((a, b) => byKey(b, a)).map(([, id]) => id)
    expect(await walk('_sort=-patient')).toEqual([...descending, ...without])
  })

  it('writes no combo-code, combo-value-quantity, combo-code-value-quantity or patient rows for bench/observation.json', async () => {
    const tenant = await f.newTenant()
    const bench = JSON.parse(readFileSync(new URL('../../../bench/observation.json', import.meta.url), 'utf8')) as Observation
    const [id] = await seed(f.repo, tenant, [bench])
    const params: string[] = []
    for (const table of TABLES) {
      const rows = await f.db.db.selectFrom(table).select('param').where('tenant_id', '=', tenant.tenantId).where('id', '=', id!).execute()
      params.push(...rows.map((r) => r.param))
    }
    const aliases = ['combo-code', 'combo-value-quantity', 'combo-code-value-quantity', 'patient']
    expect(params.filter((p) => aliases.includes(p.split(/[#:]/)[0]!))).toEqual([])
    expect(params).toContain('code')
    expect(params).toContain('subject')
    const sorts = await f.db.db.selectFrom('search_sort').select('param').where('tenant_id', '=', tenant.tenantId).where('id', '=', id!).execute()
    // Its sort key is read from its members' search_quantity rows, as theirs is: no search_sort row for either.
    expect(sorts.map((r) => r.param)).not.toContain('combo-value-quantity')
    expect(sorts.map((r) => r.param)).not.toContain('value-quantity')
    const find = (query: string) => matchIds(f.repo, tenant, 'Observation', query)
    expect(await find('combo-code=29463-7')).toEqual([id])
    expect(await find(`combo-code-value-quantity=29463-7$185|${UCUM}|[lb_av]`)).toEqual([id])
    expect(await find('patient=Patient/example')).toEqual([id])
  })
})
