import type { ParametersParameter } from '@medplum/fhirtypes'
import type { InternalSchemaElement } from '@medplum/core'
import { invalid, unprocessable } from '../../errors.js'
import { choiceBaseName, elementDefinition, elementTypeCode, isChoiceElement, isKnownType } from './element-schema.js'
import type { JsonObject } from './locate.js'

/** A value taken from a patch `value` part, ready to be stored under an element. */
export interface ElementValue {
  readonly value: unknown
  /** The type suffix of the value[x] key it came from (`Date`, `HumanName`); picks a choice key. */
  readonly typeSuffix?: string
  /** The `_value[x]` sibling of a primitive value: its id and extensions. */
  readonly extension?: unknown
}

/**
 * Reads a `value` part: a value[x], a `resource`, or (for anonymous and other complex types)
 * a list of `part`s naming the children, which is built into an object of `typeName`.
 * http://hl7.org/fhir/R4/fhirpatch.html — "instead of providing a value, a set of parts".
 */
export function readElementValue(part: ParametersParameter, typeName: string | undefined): ElementValue {
  const record = part as unknown as Record<string, unknown>
  const valueKey = Object.keys(record).find((key) => /^value[A-Z]/.test(key))
  if (valueKey) {
    return { value: structuredClone(record[valueKey]), typeSuffix: valueKey.slice(5), extension: clone(record[`_${valueKey}`]) }
  }
  const extensionKey = Object.keys(record).find((key) => /^_value[A-Z]/.test(key))
  if (extensionKey) return { value: null, typeSuffix: extensionKey.slice(6), extension: clone(record[extensionKey]) }
  if (part.resource) return { value: structuredClone(part.resource), typeSuffix: 'Resource' }
  if (Array.isArray(part.part) && part.part.length > 0) return { value: buildComplex(part.part, typeName) }
  throw invalid(`part '${part.name}' has no value`)
}

/**
 * The JSON key for element `name` holding `value`: a choice element takes the value's type
 * (`deceased` + valueBoolean → `deceasedBoolean`); a name that already carries it is kept.
 */
export function elementKey(element: InternalSchemaElement | undefined, name: string, value: ElementValue): string {
  if (!element || !isChoiceElement(element) || choiceBaseName(element) !== name) return name
  if (!value.typeSuffix || value.typeSuffix === 'Resource') {
    throw unprocessable(`'${name}' is a choice element; give its value as a typed value[x]`)
  }
  return name + value.typeSuffix
}

/** The type of the element's content, used to build nested parts (`Patient.contact` → `PatientContact`). */
export function contentType(element: InternalSchemaElement | undefined, value?: ElementValue): string | undefined {
  if (!element) return undefined
  return elementTypeCode(element) ?? value?.typeSuffix
}

/** Looks up `name` in `typeName`, refusing names the type does not define. */
export function requireElement(typeName: string, name: string): InternalSchemaElement | undefined {
  const element = elementDefinition(typeName, name)
  if (!element && isKnownType(typeName)) throw unprocessable(`${typeName} has no element '${name}'`)
  return element
}

function buildComplex(parts: ParametersParameter[], typeName: string | undefined): JsonObject {
  const grouped = new Map<string, ParametersParameter[]>()
  for (const part of parts) {
    if (typeof part.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(part.name)) {
      throw invalid(`nested part name '${String(part.name)}' is not an element name`)
    }
    grouped.set(part.name, [...(grouped.get(part.name) ?? []), part])
  }
  const object: JsonObject = {}
  for (const [name, group] of grouped) {
    const element = typeName ? requireElement(typeName, name) : undefined
    const values = group.map((part) => readElementValue(part, contentType(element)))
    const first = values[0] as ElementValue
    const key = elementKey(element, name, first)
    const hasExtension = values.some((v) => v.extension !== undefined)
    if (values.length > 1 || element?.isArray) {
      object[key] = values.map((v) => v.value)
      if (hasExtension) object[`_${key}`] = values.map((v) => v.extension ?? null)
    } else {
      if (first.value !== null) object[key] = first.value
      if (hasExtension) object[`_${key}`] = first.extension
    }
  }
  return object
}

const clone = (value: unknown): unknown => (value === undefined ? undefined : structuredClone(value))
