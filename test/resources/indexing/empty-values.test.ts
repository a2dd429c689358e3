import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Resource, SearchParameter } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { FhirError } from '../../../src/errors.js'
import { r4SearchParamRegistry } from '../../../src/resources/indexing/registry.js'
import { indexRowsFor } from '../../../src/resources/indexing/resource-indexer.js'
import { loadFhirDefinitions, validateResource } from '../../../src/resources/validation/index.js'
import { sharedData } from '../../fixtures/shared-data.js'

/**
 * Validation reads an empty `[]`, `{}` or `""` as absent, as @medplum/core does, so such a value can
 * reach the indexer where a string or an array belongs (found by mutating the Synthea bundles and
 * the R4 examples one element at a time). Extraction must then index the rest, and the checks of a
 * tenant's SearchParameter must answer with a FhirError (a 400), never a TypeError (a 500).
 */
const config = { registry: r4SearchParamRegistry(), serverUrl: 'http://localhost:8080/fhir' }
const errorsOf = (r: unknown) => validateResource(r).filter((i) => i.severity === 'error')

beforeAll(() => loadFhirDefinitions(), 60_000)

describe('index rows of resources with empty values where arrays or strings belong', () => {
  it('indexes a Quantity whose code is [] by value, system and unit, without a canonical row', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      valueQuantity: { value: 72, unit: 'kg', system: 'http://unitsofmeasure.org', code: [] },
    }
    expect(errorsOf(observation)).toEqual([])
    const rows = indexRowsFor(config, 't', observation as unknown as Resource)
    const q = rows.quantity
    expect(q.param.map((p, i) => [p, q.low[i], q.system[i], q.code[i], q.unit[i]])).toEqual([['value-quantity', '72', 'http://unitsofmeasure.org', null, 'kg']])
    expect(rows.token.code).toContain('29463-7')
  })

  it('skips a coding that is {} and still indexes the concept text and the other parameters', () => {
    const condition = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/p1' },
      clinicalStatus: { coding: {} },
      code: { coding: {}, text: 'Diabetes' },
    }
    expect(errorsOf(condition)).toEqual([])
    const rows = indexRowsFor(config, 't', condition as unknown as Resource)
    const t = rows.token
    expect(t.param.map((p, i) => [p, t.code[i], t.display[i]]).filter(([p]) => p === 'code')).toEqual([['code', null, 'diabetes']])
    expect(t.param).not.toContain('clinical-status')
    const r = rows.reference
    expect(r.param.map((p, i) => [p, r.refType[i], r.refId[i]])).toContainEqual(['subject', 'Patient', 'p1'])
  })

  it('indexes an Identifier whose type.coding is {} without :of-type rows', () => {
    const patient = { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: '42', type: { coding: {} } }] }
    expect(errorsOf(patient)).toEqual([])
    const t = indexRowsFor(config, 't', patient as unknown as Resource).token
    expect(t.param.map((p, i) => [p, t.system[i], t.code[i], t.typeCode[i]]).filter(([p]) => p === 'identifier')).toEqual([['identifier', 'urn:mrn', '42', null]])
  })
})

describe("a tenant's SearchParameter with empty values", () => {
  const searchParameter = (extra: Record<string, unknown>) =>
    ({
      resourceType: 'SearchParameter',
      url: 'http://example.org/SearchParameter/empty-values',
      name: 'EmptyValues',
      status: 'active',
      description: 'x',
      code: 'empty-values',
      base: ['Observation'],
      type: 'composite',
      expression: 'Observation',
      ...extra,
    }) as unknown as SearchParameter

  const refusal = (sp: SearchParameter): FhirError => {
    try {
      indexRowsFor(config, 't', sp)
    } catch (e) {
      return e as FhirError
    }
    throw new Error('accepted')
  }

  it('refuses an expression [] or a component {} with a 400 naming the element', () => {
    for (const [extra, element, text] of [
      [{ type: 'token', expression: [] }, 'SearchParameter.expression', /expression is required/],
      [{ component: {} }, 'SearchParameter.component', /at least two SearchParameter.component/],
      [
        { component: [{ definition: 'http://hl7.org/fhir/SearchParameter/clinical-code', expression: [] }, { definition: 'http://hl7.org/fhir/SearchParameter/Observation-value-quantity', expression: 'value' }] },
        'SearchParameter.component[0].expression',
        /expression is required/,
      ],
    ] as const) {
      const error = refusal(searchParameter(extra))
      expect(error).toBeInstanceOf(FhirError)
      expect(error).toMatchObject({ kind: 'invalid', message: expect.stringMatching(text) })
      expect(error.issues?.[0]?.expression).toEqual([element])
    }
  })
})

describe('every element of real resources replaced by an empty or mistyped value', () => {
  type Json = Record<string, unknown>
  const SHAPES: unknown[] = [[], {}, '', [{}], [[]], ['x'], { x: 1 }, 'x', 5, true]

  function pathsOf(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []) {
    if (value && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        const step = Array.isArray(value) ? Number(key) : key
        out.push([...path, step])
        pathsOf((value as Json)[key], [...path, step], out)
      }
    }
    return out
  }

  it('never throws anything but a FhirError from extraction once validation has let the resource through', () => {
    const dir = sharedData('synthea/r4-synthea-2.4-transaction-bundles')
    const file = readdirSync(dir).filter((f) => f.endsWith('.json.gz')).sort()[0]!
    const entries = (JSON.parse(gunzipSync(readFileSync(join(dir, file))).toString('utf8')) as { entry: { resource: Json }[] }).entry
    // One resource of each type in the bundle: Patient, Encounter, Observation, Condition, Claim...
    const samples = [...new Map(entries.map((e) => [e.resource.resourceType, e.resource])).values()]
    expect(samples.length).toBeGreaterThan(5)
    let accepted = 0
    const crashes: string[] = []
    for (const resource of samples) {
      for (const path of pathsOf(resource).filter((p) => p[0] !== 'resourceType' && p[0] !== 'id')) {
        for (const shape of SHAPES) {
          const copy = structuredClone(resource)
          let parent: Json = copy
          for (const step of path.slice(0, -1)) parent = parent[step as string] as Json
          parent[path[path.length - 1] as string] = shape
          if (validateResource(copy).some((i) => i.severity === 'error')) continue
          accepted++
          try {
            indexRowsFor(config, 't', copy as unknown as Resource)
          } catch (e) {
            if (!(e instanceof FhirError)) crashes.push(`${String(resource.resourceType)}.${path.join('.')} = ${JSON.stringify(shape)}: ${(e as Error).message}`)
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(500)
    expect(crashes).toEqual([])
  }, 120_000)
})
