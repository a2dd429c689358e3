import type { Resource } from '@medplum/fhirtypes'
import { FhirError, invalid, isFhirError, unprocessable } from '../../errors.js'
import { isArrayIndex, isProperPrefix, parseJsonPointer } from './json-pointer.js'
import { isJsonObject } from './locate.js'
import { assertIdentityKept } from './resource-identity.js'

type JsonPatchOp = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test'

interface JsonPatchOperation {
  readonly op: JsonPatchOp
  readonly path: string
  readonly tokens: readonly string[]
  readonly from?: readonly string[]
  readonly value?: unknown
}

const OPS: readonly JsonPatchOp[] = ['add', 'remove', 'replace', 'move', 'copy', 'test']

/** JSON Patch (RFC 6902), http://hl7.org/fhir/R4/http.html#patch. See index.ts for the contract. */
export function applyJsonPatch(resource: Resource, patch: unknown): Resource {
  const operations = parseJsonPatch(patch)
  let document: unknown = structuredClone(resource)
  operations.forEach((operation, i) => {
    try {
      document = applyOperation(document, operation)
    } catch (error) {
      if (!isFhirError(error)) throw error
      throw new FhirError(error.kind, `JSON Patch operation ${i} (${operation.op} ${operation.path}): ${error.message}`)
    }
  })
  assertIdentityKept(resource, document, 'JSON Patch')
  return document
}

function parseJsonPatch(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) throw invalid('JSON Patch document must be an array of operations', { code: 'structure' })
  return patch.map((raw: unknown, i) => {
    const fail = (reason: string) => invalid(`JSON Patch operation ${i}: ${reason}`, { code: 'structure' })
    if (!isJsonObject(raw)) throw fail('must be an object')
    const { op, path, from } = raw
    if (!OPS.includes(op as JsonPatchOp)) throw fail(`op must be one of ${OPS.join(', ')}, got '${String(op)}'`)
    if (typeof path !== 'string') throw fail(`'path' is required`)
    const tokens = parseJsonPointer(path)
    if (!tokens) throw fail(`path '${path}' is not a JSON Pointer`)
    const operation = { op: op as JsonPatchOp, path, tokens }
    if (op === 'move' || op === 'copy') {
      if (typeof from !== 'string') throw fail(`'from' is required for ${op}`)
      const fromTokens = parseJsonPointer(from)
      if (!fromTokens) throw fail(`from '${from}' is not a JSON Pointer`)
      if (op === 'move' && isProperPrefix(fromTokens, tokens)) throw fail(`cannot move '${from}' into its own child '${path}'`)
      return { ...operation, from: fromTokens }
    }
    if (op === 'add' || op === 'replace' || op === 'test') {
      if (!('value' in raw) || raw['value'] === undefined) throw fail(`'value' is required for ${op}`)
      return { ...operation, value: raw['value'] }
    }
    return operation
  })
}

/** Applies one operation, mutating `document`; returns the (possibly replaced) document. */
function applyOperation(document: unknown, operation: JsonPatchOperation): unknown {
  switch (operation.op) {
    case 'add':
      return add(document, operation.tokens, structuredClone(operation.value))
    case 'remove':
      return remove(document, operation.tokens)
    case 'replace':
      return replace(document, operation.tokens, structuredClone(operation.value))
    case 'move': {
      const from = operation.from ?? []
      const value = get(document, from)
      return add(remove(document, from), operation.tokens, value)
    }
    case 'copy':
      return add(document, operation.tokens, structuredClone(get(document, operation.from ?? [])))
    case 'test':
      if (!isJsonEqual(get(document, operation.tokens), operation.value)) throw unprocessable('test failed: the value differs')
      return document
  }
}

function get(document: unknown, tokens: readonly string[]): unknown {
  let node = document
  for (const token of tokens) {
    node = child(node, token)
    if (node === undefined) throw unprocessable(`'/${tokens.join('/')}' does not exist`)
  }
  return node
}

function child(node: unknown, token: string): unknown {
  if (Array.isArray(node)) return isArrayIndex(token) ? node[Number(token)] : undefined
  if (isJsonObject(node) && Object.hasOwn(node, token)) return node[token]
  return undefined
}

function add(document: unknown, tokens: readonly string[], value: unknown): unknown {
  if (tokens.length === 0) return value
  const parent = get(document, tokens.slice(0, -1))
  const last = tokens[tokens.length - 1] as string
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : isArrayIndex(last) ? Number(last) : NaN
    if (!(index <= parent.length)) throw unprocessable(`'${last}' is not an index within the array`)
    parent.splice(index, 0, value)
  } else if (isJsonObject(parent)) {
    parent[last] = value
  } else {
    throw unprocessable(`cannot add '${last}' to a primitive value`)
  }
  return document
}

function replace(document: unknown, tokens: readonly string[], value: unknown): unknown {
  if (tokens.length === 0) return value
  get(document, tokens)
  const parent = get(document, tokens.slice(0, -1))
  const last = tokens[tokens.length - 1] as string
  if (Array.isArray(parent)) parent[Number(last)] = value
  else if (isJsonObject(parent)) parent[last] = value
  return document
}

function remove(document: unknown, tokens: readonly string[]): unknown {
  if (tokens.length === 0) throw unprocessable('cannot remove the whole document')
  get(document, tokens)
  const parent = get(document, tokens.slice(0, -1))
  const last = tokens[tokens.length - 1] as string
  if (Array.isArray(parent)) parent.splice(Number(last), 1)
  else if (isJsonObject(parent)) delete parent[last]
  return document
}

function isJsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => isJsonEqual(item, b[i]))
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && isJsonEqual(a[key], b[key]))
  }
  return a === b
}
