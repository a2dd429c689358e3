import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation, SearchParameter } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { r4SearchParamRegistry } from '../../../src/resources/index.js'
import { compilePageQuery, parseSearchRequest, planSearch } from '../../../src/resources/search/index.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

const LOINC = 'http://loinc.org'
const UCUM = 'http://unitsofmeasure.org'
const SYSTOLIC = '8480-6'
const DIASTOLIC = '8462-4'

/** composite parameters — https://hl7.org/fhir/R4/search.html#composite */
describe('search: composite parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const mmHg = (value: number) => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' })
  const bloodPressure = (systolic: number, diastolic: number): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    component: [
      { code: { coding: [{ system: LOINC, code: SYSTOLIC }] }, valueQuantity: mmHg(systolic) },
      { code: { coding: [{ system: LOINC, code: DIASTOLIC }] }, valueQuantity: mmHg(diastolic) },
    ],
  })
  const weight = (kg: number): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '29463-7' }] },
    valueQuantity: { value: kg, unit: 'kg', system: UCUM, code: 'kg' },
  })

  it('matches component-code-value-quantity only when code and value are on the same component', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [bloodPressure(120, 80), bloodPressure(80, 120)])
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${LOINC}|${SYSTOLIC}$gt100`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${SYSTOLIC}$lt100`)).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${DIASTOLIC}$gt100|${UCUM}|mm[Hg]`)).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${SYSTOLIC}$gt100,${DIASTOLIC}$gt100`)).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', `component-code-value-quantity=${SYSTOLIC}$gt100&component-code-value-quantity=${DIASTOLIC}$gt100`)).toEqual([])
  })

  it('matches code-value-quantity on the Observation code and value', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [weight(70), weight(90), bloodPressure(120, 80)])
    expect(await matchIds(f.repo, scope, 'Observation', `code-value-quantity=${LOINC}|29463-7$gt80|${UCUM}|kg`)).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=29463-7$70')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=85354-9$120')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'combo-code-value-quantity=8480-6$120')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity:missing=true')).toEqual(pick(ids, 2))
  })

  const coded = (code: string, value: Partial<Observation>): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code }] },
    ...value,
  })

  // code-value-quantity and code-value-concept read the `code` and `value-*` rows (composite-alias.ts).
  it('matches an aliased root composite only when code and value belong to the same Observation', async () => {
    const scope = await f.newTenant()
    const kg = (value: number) => ({ valueQuantity: { value, unit: 'kg', system: UCUM, code: 'kg' } })
    const concept = (code: string) => ({ valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code }] } })
    const ids = await seed(f.repo, scope, [coded('29463-7', kg(70)), coded('3141-9', kg(90)), coded('883-9', concept('112144000')), coded('882-1', concept('278149003'))])
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=29463-7$70')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', `code-value-quantity=${LOINC}|3141-9$gt80|${UCUM}|kg`)).toEqual(pick(ids, 1))
    // The code of one and the value of the other: no single Observation has both.
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=29463-7$90')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=3141-9$70')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity=29463-7$70,3141-9$90')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-concept=883-9$112144000')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-concept=883-9$278149003')).toEqual([])
  })

  it('compiles an aliased composite to the plain rows joined on the resource id, with no ord join', async () => {
    const scope = await f.newTenant()
    const [id] = await seed(f.repo, scope, [weight(70)])
    const request = parseSearchRequest(r4SearchParamRegistry().forType('Observation'), [['code-value-quantity', '29463-7$70']], { now: new Date() })
    const page = compilePageQuery(planSearch(scope.tenantId, request), { phase: 0, direction: 'after', limit: request.count + 1 })
    const compiled = page.compile(f.db.db)
    expect(compiled.sql).toContain('JOIN "search_quantity" x0c1 ON x0c1.tenant_id = x0c0.tenant_id AND x0c1.resource_type = x0c0.resource_type AND x0c1.id = x0c0.id AND x0c1.param = $')
    expect(compiled.sql).not.toContain('.ord')
    expect(compiled.parameters).toEqual(expect.arrayContaining(['code', 'value-quantity']))
    expect(compiled.parameters.some((p) => typeof p === 'string' && p.startsWith('code-value-quantity#'))).toBe(false)
    expect((await page.execute(f.db.db)).rows.map((r) => r.id)).toEqual([id])
  })

  // code-value-string: `code` is an alias, `value-string` is not (it also reads CodeableConcept.text).
  it('matches code-value-date on the code and a dateTime or Period value of the same Observation', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      coded('21112-8', { valueDateTime: '1990-05-04' }),
      coded('21112-8', { valuePeriod: { start: '2020-01-01', end: '2020-03-01' } }),
      coded('8302-2', { valueDateTime: '1990-05-04' }),
    ])
    await seed(f.repo, await f.newTenant(), [coded('21112-8', { valueDateTime: '1990-05-04' })])
    expect(await matchIds(f.repo, scope, 'Observation', `code-value-date=${LOINC}|21112-8$1990-05-04`)).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-date=21112-8$ge2020-02')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-date=8302-2$1990')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-date=8302-2$2020')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-date=21112-8$lt1991,8302-2$gt2000')).toEqual(pick(ids, 0))
  })

  it('matches a partly aliased composite on its own value rows and the code rows of the same Observation', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      coded('8251-1', { valueString: 'no chest pain' }),
      coded('8302-2', { valueString: 'tall' }),
      coded('8251-1', { valueCodeableConcept: { text: 'tall' } }),
    ])
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-string=8251-1$no chest')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-string=8302-2$tall')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-string=8251-1$tall')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'value-string=tall')).toEqual(pick(ids, 1, 2))
  })

  it('answers :missing on aliased, partly aliased and element composites', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [weight(70), coded('8251-1', { valueString: 'no pain' }), bloodPressure(120, 80), coded('8302-2', {})])
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity:missing=false')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-quantity:missing=true')).toEqual(pick(ids, 1, 2, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-string:missing=false')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-value-string:missing=true')).toEqual(pick(ids, 0, 2, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'component-code-value-quantity:missing=false')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'combo-code-value-quantity:missing=true')).toEqual(pick(ids, 1, 3))
  })

  it("aliases a tenant's own root composite to that tenant's parameters", async () => {
    const scope = await f.newTenant()
    const technique: SearchParameter = {
      resourceType: 'SearchParameter',
      url: 'https://clinic.example/fhir/SearchParameter/observation-technique',
      name: 'technique',
      status: 'active',
      description: 'How the observation was made',
      code: 'technique',
      base: ['Observation'],
      type: 'token',
      expression: 'Observation.method',
    }
    const codeTechnique: SearchParameter = {
      ...technique,
      url: 'https://clinic.example/fhir/SearchParameter/observation-code-technique',
      name: 'code-technique',
      code: 'code-technique',
      type: 'composite',
      expression: 'Observation',
      component: [
        { definition: 'http://hl7.org/fhir/SearchParameter/clinical-code', expression: 'code' },
        { definition: technique.url, expression: 'method' },
      ],
    }
    await seed(f.repo, scope, [technique, codeTechnique])
    const method = (code: string) => ({ method: { coding: [{ system: 'http://snomed.info/sct', code }] } })
    const ids = await seed(f.repo, scope, [coded('8480-6', method('37931006')), coded('8462-4', method('113011001'))])
    expect(await matchIds(f.repo, scope, 'Observation', 'code-technique=8480-6$37931006')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'code-technique=8480-6$113011001')).toEqual([])
    const own = await f.db.db.selectFrom('search_token').select('param').where('tenant_id', '=', scope.tenantId).where('param', 'like', 'code-technique#%').execute()
    expect(own).toEqual([])
  })

  it('rejects a value without one part per component', async () => {
    const scope = await f.newTenant()
    const error = await search(f.repo, scope, 'Observation', 'code-value-quantity=29463-7').catch((e: unknown) => e)
    expect(isFhirError(error) && error.kind).toBe('invalid')
    expect(isFhirError(error) && error.issues[0]?.expression).toEqual(['code-value-quantity'])
  })
})
