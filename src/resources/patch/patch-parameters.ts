import type { Parameters, ParametersParameter } from '@medplum/fhirtypes'
import { parseFhirPath, type FhirPathAtom } from '@medplum/core'
import { invalid } from '../../errors.js'
import { isJsonObject } from './locate.js'

export type FhirPathPatchType = 'add' | 'insert' | 'delete' | 'replace' | 'move'

/** One `operation` parameter, checked for shape (http://hl7.org/fhir/R4/fhirpatch.html#operations). */
export interface FhirPathPatchOperation {
  readonly type: FhirPathPatchType
  readonly path: string
  readonly atom: FhirPathAtom
  readonly name?: string
  /** The `value` part itself: it carries a value[x], a `resource`, or nested `part`s. */
  readonly value?: ParametersParameter
  readonly index?: number
  readonly source?: number
  readonly destination?: number
}

const TYPES: readonly FhirPathPatchType[] = ['add', 'insert', 'delete', 'replace', 'move']
const PART_NAMES = ['type', 'path', 'name', 'value', 'index', 'source', 'destination'] as const
type PartName = (typeof PART_NAMES)[number]

const REQUIRED: Record<FhirPathPatchType, readonly PartName[]> = {
  add: ['path', 'name', 'value'],
  insert: ['path', 'value', 'index'],
  delete: ['path'],
  replace: ['path', 'value'],
  move: ['path', 'source', 'destination'],
}

/** FHIR element names; also keeps `__proto__` and friends out of the resource. */
const ELEMENT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/

/** Checks the Parameters shape and returns its operations in order. Throws 'invalid'. */
export function parseFhirPathPatch(patch: Parameters): FhirPathPatchOperation[] {
  if (!isJsonObject(patch) || patch.resourceType !== 'Parameters') {
    throw invalid('FHIRPath Patch body must be a Parameters resource', { code: 'structure' })
  }
  const parameters: unknown = patch.parameter ?? []
  if (!Array.isArray(parameters)) throw invalid('Parameters.parameter must be an array', { code: 'structure' })
  return parameters.map((parameter: unknown, i) => parseOperation(parameter, `Parameters.parameter[${i}]`))
}

function parseOperation(parameter: unknown, at: string): FhirPathPatchOperation {
  const fail = (reason: string) => invalid(`FHIRPath Patch ${at}: ${reason}`, { code: 'structure', expression: [at] })
  if (!isJsonObject(parameter) || parameter['name'] !== 'operation') throw fail(`expected a parameter named 'operation'`)
  const parts = parameter['part']
  if (!Array.isArray(parts)) throw fail(`'operation' must have parts`)

  const byName = new Map<PartName, ParametersParameter>()
  for (const part of parts as unknown[]) {
    const name = isJsonObject(part) ? part['name'] : undefined
    if (!PART_NAMES.includes(name as PartName)) throw fail(`unknown part '${String(name)}'`)
    if (byName.has(name as PartName)) throw fail(`part '${String(name)}' appears more than once`)
    byName.set(name as PartName, part as ParametersParameter)
  }

  const type = stringPart(byName.get('type'))
  if (!TYPES.includes(type as FhirPathPatchType)) throw fail(`type must be one of ${TYPES.join(', ')}, got '${type ?? ''}'`)
  const patchType = type as FhirPathPatchType
  for (const required of REQUIRED[patchType]) {
    if (!byName.has(required)) throw fail(`${patchType} requires a '${required}' part`)
  }

  const path = stringPart(byName.get('path'))
  if (!path) throw fail(`'path' must be a non-empty string`)
  let atom: FhirPathAtom
  try {
    atom = parseFhirPath(path)
  } catch (error) {
    throw fail(`path '${path}' is not valid FHIRPath: ${error instanceof Error ? error.message : String(error)}`)
  }

  const name = byName.has('name') ? stringPart(byName.get('name')) : undefined
  if (name !== undefined && !ELEMENT_NAME.test(name)) throw fail(`'name' must be an element name, got '${name}'`)
  const value = byName.get('value')
  if (value && !hasValue(value)) throw fail(`'value' must carry a value[x], a resource or parts`)

  return {
    type: patchType,
    path,
    atom,
    name,
    value,
    index: integerPart(byName.get('index'), 'index', fail),
    source: integerPart(byName.get('source'), 'source', fail),
    destination: integerPart(byName.get('destination'), 'destination', fail),
  }
}

function stringPart(part: ParametersParameter | undefined): string | undefined {
  const value = part?.valueString ?? part?.valueCode ?? part?.valueUri
  return typeof value === 'string' ? value : undefined
}

function integerPart(part: ParametersParameter | undefined, name: string, fail: (reason: string) => Error): number | undefined {
  if (!part) return undefined
  const value = part.valueInteger ?? part.valueUnsignedInt ?? part.valuePositiveInt
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw fail(`'${name}' must be a non-negative valueInteger`)
  return value
}

const hasValue = (part: ParametersParameter): boolean =>
  part.resource !== undefined ||
  (Array.isArray(part.part) && part.part.length > 0) ||
  Object.keys(part).some((key) => key.startsWith('value'))
