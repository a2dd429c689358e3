import type { SearchParameter } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { partsOf } from '../../../src/resources/indexing/composite-alias.js'
import { r4SearchParamRegistry } from '../../../src/resources/indexing/registry.js'
import { loadFhirDefinitions } from '../../../src/resources/validation/index.js'

const aliasesOf = (registry: ReturnType<typeof r4SearchParamRegistry>, type: string, code: string) =>
  registry.forType(type).byCode.get(code)?.components?.map((c) => c.alias ?? null)

const isIndexed = (registry: ReturnType<typeof r4SearchParamRegistry>, type: string, code: string) =>
  registry.forType(type).indexed.some((d) => d.code === code)

/** Which composite components reuse a plain parameter's rows (src/resources/indexing/composite-alias.ts). */
describe('composite aliases', () => {
  beforeAll(() => loadFhirDefinitions())

  it('aliases both parts of code-value-quantity and code-value-concept, and leaves them out of extraction', () => {
    const r4 = r4SearchParamRegistry()
    expect(aliasesOf(r4, 'Observation', 'code-value-quantity')).toEqual(['code', 'value-quantity'])
    expect(aliasesOf(r4, 'Observation', 'code-value-concept')).toEqual(['code', 'value-concept'])
    expect(isIndexed(r4, 'Observation', 'code-value-quantity')).toBe(false)
    expect(isIndexed(r4, 'Observation', 'code')).toBe(true)
  })

  it('keeps own rows where the plain parameter selects more (value-string reads CodeableConcept.text) or is spelled differently (DateTime)', () => {
    const r4 = r4SearchParamRegistry()
    expect(aliasesOf(r4, 'Observation', 'code-value-string')).toEqual(['code', null])
    expect(aliasesOf(r4, 'Observation', 'code-value-date')).toEqual(['code', null])
    expect(isIndexed(r4, 'Observation', 'code-value-string')).toBe(true)
  })

  it('never aliases composites over repeating elements', () => {
    const r4 = r4SearchParamRegistry()
    expect(aliasesOf(r4, 'Observation', 'combo-code-value-quantity')).toEqual([null, null])
    expect(aliasesOf(r4, 'Observation', 'component-code-value-quantity')).toEqual([null, null])
    expect(aliasesOf(r4, 'Group', 'characteristic-value')).toEqual([null, null])
  })

  it("drops an alias in a tenant registry whose own definition replaces the aliased parameter's expression", () => {
    const override: SearchParameter = {
      resourceType: 'SearchParameter',
      url: 'http://hl7.org/fhir/SearchParameter/clinical-code',
      name: 'code',
      status: 'active',
      description: 'code, from the category instead',
      code: 'code',
      base: ['Observation'],
      type: 'token',
      expression: 'Observation.category',
    }
    const tenant = r4SearchParamRegistry().extend([override])
    expect(aliasesOf(tenant, 'Observation', 'code-value-quantity')).toEqual([null, 'value-quantity'])
    expect(isIndexed(tenant, 'Observation', 'code-value-quantity')).toBe(true)
    expect(aliasesOf(r4SearchParamRegistry(), 'Observation', 'code-value-quantity')).toEqual(['code', 'value-quantity'])
  })

  it('normalises casts and parentheses, drops parts of other types, and refuses what is not a plain path', () => {
    expect(partsOf('(Observation.value as Quantity) | (Observation.value as SampledData)', 'Observation')).toEqual([
      'Observation.value.as(Quantity)',
      'Observation.value.as(SampledData)',
    ])
    expect(partsOf('value.as(Quantity)', 'Observation', { isRelative: true })).toEqual(['Observation.value.as(Quantity)'])
    expect(partsOf('AllergyIntolerance.code | Observation.code', 'Observation')).toEqual(['Observation.code'])
    expect(partsOf("Observation.component.where(code='x').value", 'Observation')).toBeUndefined()
    expect(partsOf('%resource.referenceSeq.chromosome', 'MolecularSequence', { isRelative: true })).toBeUndefined()
  })
})
