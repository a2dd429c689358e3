import type { Parameters, Resource } from '@medplum/fhirtypes'
import type { TypedValue } from '@medplum/core'
import { FhirError, isFhirError, unprocessable } from '../../errors.js'
import { insertElement, moveElement, pruneEmpty, removeElement, setElement } from './element-mutation.js'
import { ensureBaseSchema } from '../base-schema.js'
import { choiceBaseName, elementDefinition, isChoiceElement } from './element-schema.js'
import { contentType, elementKey, readElementValue, requireElement } from './element-value.js'
import { ensureObjectOf, locateElements, locateList, type ElementLocation, type JsonObject, type ListLocation } from './locate.js'
import { parseFhirPathPatch, type FhirPathPatchOperation } from './patch-parameters.js'
import { assertIdentityKept } from './resource-identity.js'

/** FHIRPath Patch — http://hl7.org/fhir/R4/fhirpatch.html. See index.ts for the contract. */
export function applyFhirPathPatch(resource: Resource, patch: Parameters): Resource {
  const operations = parseFhirPathPatch(patch)
  const result = structuredClone(resource) as unknown as JsonObject
  if (operations.length > 0) ensureBaseSchema()
  const root: TypedValue = { type: resource.resourceType, value: result }
  operations.forEach((operation, i) => {
    try {
      OPERATIONS[operation.type](root, operation)
    } catch (error) {
      throw withOperation(error, i, operation)
    }
  })
  pruneEmpty(result)
  assertIdentityKept(resource, result, 'FHIRPath Patch')
  return result
}

type OperationHandler = (root: TypedValue, operation: FhirPathPatchOperation) => void

const OPERATIONS: Record<FhirPathPatchOperation['type'], OperationHandler> = {
  /** Appends to a list, or sets a single element that has no value yet. */
  add(root, { atom, name, value }) {
    const target = exactlyOne(evaluate(() => locateElements(root, atom)), 'add')
    const object = ensureObjectOf(target)
    const elementName = required(name)
    const element = requireElement(target.typed.type, elementName)
    const content = readElementValue(required(value), contentType(element))
    const key = elementKey(element, elementName, content)
    const isList = element ? element.isArray === true : Array.isArray(object[key])
    if (isList) return insertElement(object, key, listLength(object, key), content)
    const base = element && isChoiceElement(element) ? choiceBaseName(element) : undefined
    const isTaken = Object.keys(object).some((k) => {
      const bare = k.replace(/^_/, '')
      return bare === key || (base !== undefined && bare.startsWith(base) && /^[A-Z]/.test(bare.slice(base.length)))
    })
    if (isTaken) throw unprocessable(`'${elementName}' already has a value; add only fills an empty single element (use replace)`)
    setElement(object, key, undefined, content)
  },

  /** Inserts into a list at `index`, which may be at most the list's length. */
  insert(root, { atom, value, index }) {
    const list = evaluate(() => locateList(root, atom))
    const element = requireList(list)
    const length = listLength(list.container, list.key)
    const at = required(index)
    if (at > length) throw unprocessable(`index ${at} is past the end of the list (${length} items)`)
    insertElement(list.container, list.key, at, readElementValue(required(value), contentType(element)))
  },

  /** Removes the one matching element; matching nothing is not an error. */
  delete(root, { atom }) {
    const matches = evaluate(() => locateElements(root, atom))
    if (matches.length === 0) return
    if (matches.length > 1) throw unprocessable(`the path matches ${matches.length} elements; delete removes at most one`)
    const [target] = matches as [ElementLocation]
    if (!target.container || target.key === undefined) throw unprocessable('the resource itself cannot be deleted')
    removeElement(target.container, target.key, target.index)
  },

  /** Replaces the one matching element, switching the key when a choice element changes type. */
  replace(root, { atom, value }) {
    const target = exactlyOne(evaluate(() => locateElements(root, atom)), 'replace')
    const { container, containerType, index } = target
    if (!container || target.key === undefined || containerType === undefined) {
      throw unprocessable('the resource itself cannot be replaced')
    }
    const content = readElementValue(required(value), target.typed.type)
    const element = elementDefinition(containerType, target.key)
    let key = target.key
    if (element && isChoiceElement(element) && index === undefined && content.typeSuffix && content.typeSuffix !== 'Resource') {
      const typedKey = choiceBaseName(element) + content.typeSuffix
      if (typedKey !== key) removeElement(container, key, undefined)
      key = typedKey
    }
    setElement(container, key, index, content)
  },

  /** Moves one item of a list from `source` to `destination`. */
  move(root, { atom, source, destination }) {
    const list = evaluate(() => locateList(root, atom))
    requireList(list)
    const length = listLength(list.container, list.key)
    const from = required(source)
    const to = required(destination)
    if (from >= length || to >= length) {
      throw unprocessable(`source ${from} and destination ${to} must both be within the list (${length} items)`)
    }
    moveElement(list.container, list.key, from, to)
  },
}

function exactlyOne(matches: ElementLocation[], type: string): ElementLocation {
  const [match, ...rest] = matches
  if (!match) throw unprocessable(`no element matches the path; ${type} needs exactly one`)
  if (rest.length > 0) throw unprocessable(`the path matches ${matches.length} elements; ${type} needs exactly one`)
  return match
}

function requireList(list: ListLocation) {
  const element = requireElement(list.containerType, list.key)
  if (element && !element.isArray) throw unprocessable(`${list.containerType}.${list.key} is not a repeating element`)
  return element
}

function listLength(object: JsonObject, key: string): number {
  const value = object[key]
  return Array.isArray(value) ? value.length : value === undefined ? 0 : 1
}

/** Errors raised by the FHIRPath engine on a client's path are the client's, not ours. */
function evaluate<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (isFhirError(error)) throw error
    throw unprocessable(`the path could not be evaluated: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Parsing guarantees the parts each operation type requires. */
function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('FHIRPath Patch operation is missing a part that parsing requires')
  return value
}

function withOperation(error: unknown, i: number, operation: FhirPathPatchOperation): unknown {
  if (!isFhirError(error)) return error
  const at = `Parameters.parameter[${i}]`
  return new FhirError(error.kind, `FHIRPath Patch operation ${i} (${operation.type} ${operation.path}): ${error.message}`, {
    code: error.issues[0]?.code,
    expression: [at],
  })
}
