import {
  AsAtom,
  DotAtom,
  FhirPathAtom,
  FunctionAtom,
  IndexerAtom,
  SymbolAtom,
  getTypedPropertyValue,
  type Atom,
  type AtomContext,
  type TypedValue,
} from '@medplum/core'
import { invalid, unprocessable } from '../../errors.js'

export type JsonObject = Record<string, unknown>

/**
 * Where an element matched by a FHIRPath expression lives: `container[key]` or
 * `container[key][index]`. The resource root has no container.
 */
export interface ElementLocation {
  readonly container?: JsonObject
  readonly containerType?: string
  readonly key?: string
  readonly index?: number
  readonly typed: TypedValue
}

/** A repeating element addressed as a whole (insert and move work on it). */
export interface ListLocation {
  readonly container: JsonObject
  readonly containerType: string
  readonly key: string
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Evaluates a patch path against `root` and returns the location of every match.
 * It mirrors medplum's FHIRPath evaluation step by step but carries the container and
 * property along, so callers can mutate the (cloned) resource in place. Only navigation,
 * indexers, `as` and functions that return input items (`where`, `first`, `ofType`…)
 * are supported; anything that computes new values throws 'invalid'.
 */
export function locateElements(root: TypedValue, path: Atom): ElementLocation[] {
  const context: AtomContext = { variables: { '%resource': root, '%rootResource': root, '%context': root } }
  return evalLocations(path, [{ typed: root }], context)
}

/**
 * Resolves a path naming a list (`Patient.identifier`, `Patient.name[0].given`): everything
 * before the last element name must match exactly one element, which holds the list.
 */
export function locateList(root: TypedValue, path: Atom): ListLocation {
  const inner = path instanceof FhirPathAtom ? path.child : path
  const context: AtomContext = { variables: { '%resource': root, '%rootResource': root, '%context': root } }
  let parents: ElementLocation[]
  let name: string
  if (inner instanceof DotAtom && inner.right instanceof SymbolAtom) {
    parents = evalLocations(inner.left, [{ typed: root }], context)
    name = inner.right.name
  } else if (inner instanceof SymbolAtom && !isResourceOfType(root.value, inner.name)) {
    parents = [{ typed: root }]
    name = inner.name
  } else {
    throw unprocessable('the path must end with the name of a repeating element')
  }
  const [parent, ...rest] = parents
  if (!parent || rest.length > 0) {
    throw unprocessable(`the element holding '${name}' must match exactly one element, but matched ${parents.length}`)
  }
  return { container: ensureObjectOf(parent), containerType: parent.typed.type, key: name }
}

/** The JSON value stored at a location (for a primitive: the bare value, not its `_x` sibling). */
export function readAt(location: ElementLocation): unknown {
  const { container, key, index } = location
  if (!container || key === undefined) return location.typed.value
  const value = container[key]
  return index === undefined ? value : Array.isArray(value) ? value[index] : undefined
}

/**
 * The object whose properties are the element's children. A complex element is its own
 * object; a primitive keeps `id` and `extension` in its `_name` sibling, created on demand.
 */
export function ensureObjectOf(location: ElementLocation): JsonObject {
  const existing = objectOf(location)
  if (existing) return existing
  const { container, key, index } = location
  if (!container || key === undefined) throw unprocessable('the element cannot hold child elements')
  const sibling: JsonObject = {}
  if (index === undefined) {
    container[`_${key}`] = sibling
  } else {
    const current = container[`_${key}`]
    const list: unknown[] = Array.isArray(current) ? current : []
    while (list.length <= index) list.push(null)
    list[index] = sibling
    container[`_${key}`] = list
  }
  return sibling
}

function objectOf(location: ElementLocation): JsonObject | undefined {
  const value = readAt(location)
  if (isJsonObject(value)) return value
  const { container, key, index } = location
  if (!container || key === undefined) return undefined
  const sibling = container[`_${key}`]
  const found = index === undefined ? sibling : Array.isArray(sibling) ? sibling[index] : undefined
  return isJsonObject(found) ? found : undefined
}

function evalLocations(atom: Atom, input: ElementLocation[], context: AtomContext): ElementLocation[] {
  if (atom instanceof FhirPathAtom) return evalLocations(atom.child, input, context)
  if (atom instanceof DotAtom) return evalLocations(atom.right, evalLocations(atom.left, input, context), context)
  if (atom instanceof SymbolAtom) {
    if (atom.name === '$this') return input
    if (atom.name.startsWith('%')) throw invalid(`variable ${atom.name} does not address an element of the resource`)
    return input.flatMap((location) => (isResourceOfType(location.typed.value, atom.name) ? [location] : children(location, atom.name)))
  }
  if (atom instanceof IndexerAtom) {
    const [index, ...rest] = atom.expr.eval(context, input.map((l) => l.typed))
    if (!index || rest.length > 0) return []
    if (typeof index.value !== 'number' || !Number.isInteger(index.value)) throw invalid('an indexer must be an integer')
    const items = evalLocations(atom.left, input, context)
    const item = items[index.value]
    return item ? [item] : []
  }
  if (atom instanceof AsAtom && atom.right instanceof SymbolAtom) {
    const typeName = atom.right.name
    return evalLocations(atom.left, input, context).filter((l) => l.typed.type === typeName)
  }
  if (atom instanceof FunctionAtom) return evalFunction(atom, input, context)
  throw invalid(`'${atom.toString()}' does not address elements of the resource`)
}

/**
 * Subsetting and filtering functions return the very TypedValue objects they were given,
 * so matching results back by identity recovers their locations. `extension(url)` builds
 * new values in medplum, so it is navigated here instead.
 */
function evalFunction(atom: FunctionAtom, input: ElementLocation[], context: AtomContext): ElementLocation[] {
  if (atom.name === 'extension' && atom.args.length === 1 && atom.args[0]) {
    const [url] = atom.args[0].eval(context, input.map((l) => l.typed))
    return input
      .flatMap((location) => children(location, 'extension'))
      .filter((location) => isJsonObject(location.typed.value) && location.typed.value['url'] === url?.value)
  }
  const byTyped = new Map(input.map((location) => [location.typed, location]))
  let result: TypedValue[]
  try {
    result = atom.eval(context, input.map((l) => l.typed))
  } catch (error) {
    throw unprocessable(`${atom.name}() failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  return result.map((typed) => {
    const location = byTyped.get(typed)
    if (!location) throw invalid(`${atom.name}() does not select elements of the resource, so it cannot be patched`)
    return location
  })
}

function children(location: ElementLocation, name: string): ElementLocation[] {
  const object = objectOf(location)
  if (!object) return []
  const found = getTypedPropertyValue({ type: location.typed.type, value: object }, name)
  if (found === undefined) return []
  const list = Array.isArray(found) ? found : [found]
  const key = propertyKey(object, name, list[0]?.type)
  const isList = Array.isArray(object[key]) || Array.isArray(object[`_${key}`])
  return list.map((typed, i) => ({
    container: object,
    containerType: location.typed.type,
    key,
    index: isList ? i : undefined,
    typed,
  }))
}

/** The JSON key holding `name`: itself, or for a choice element `name` + the type (`valueQuantity`). */
function propertyKey(object: JsonObject, name: string, type: string | undefined): string {
  const has = (key: string) => key in object || `_${key}` in object
  if (has(name)) return name
  const typed = type ? name + type.charAt(0).toUpperCase() + type.slice(1) : undefined
  if (typed && has(typed)) return typed
  const variant = Object.keys(object)
    .map((k) => k.replace(/^_/, ''))
    .find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length)))
  return variant ?? name
}

const isResourceOfType = (value: unknown, name: string): boolean => isJsonObject(value) && value['resourceType'] === name
