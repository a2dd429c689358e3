import type { Binary, Bundle, BundleEntry, Parameters, Resource } from '@medplum/fhirtypes'
import { FhirError, invalid, isFhirError } from '../errors.js'
import type { PatchDocument } from '../resources/index.js'
import { parseEntryUrl } from './entry-url.js'
import { distributeNumberText } from './number-text.js'
import type { BundleKind, EntryMethod, ParsedEntry, RejectedEntry } from './types.js'

const METHODS = new Set<EntryMethod>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])

export interface ParsedBundle {
  readonly type: BundleKind
  readonly entries: readonly (ParsedEntry | RejectedEntry)[]
}

export const isRejected = (e: ParsedEntry | RejectedEntry): e is RejectedEntry => 'error' in e

/**
 * Checks a request body is a batch or transaction Bundle (bundle.html) within the entry limit,
 * and each entry's shape (http.html#transaction). Bundle-level problems throw; an entry's
 * problem is returned as a RejectedEntry so a batch can report it and carry on.
 */
export function parseBundle(body: unknown, options: { baseUrl: string; maxEntries: number }): ParsedBundle {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || (body as Resource).resourceType !== 'Bundle') {
    throw invalid('POST to the base needs a Bundle of type batch or transaction as its JSON body', { code: 'structure', expression: ['Bundle'] })
  }
  const bundle = body as Bundle
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw invalid(`Bundle.type '${String(bundle.type)}' cannot be processed at the base: send a batch or a transaction`, { expression: ['Bundle.type'] })
  }
  const raw: unknown = bundle.entry ?? []
  if (!Array.isArray(raw)) throw invalid('Bundle.entry must be an array', { code: 'structure', expression: ['Bundle.entry'] })
  if (raw.length > options.maxEntries) {
    throw new FhirError(
      'payload-too-large',
      `The ${bundle.type} has ${raw.length} entries; this server accepts at most ${options.maxEntries} per Bundle (MAX_BUNDLE_ENTRIES): split it`,
      { expression: ['Bundle.entry'] },
    )
  }
  distributeNumberText(body, raw.map((entry: unknown) => (entry as BundleEntry | null)?.resource))
  const seen = new Map<string, number>()
  const entries = raw.map((entry: unknown, index): ParsedEntry | RejectedEntry => {
    const fullUrl = typeof (entry as BundleEntry | null)?.fullUrl === 'string' ? (entry as BundleEntry).fullUrl : undefined
    try {
      const parsed = parseEntry(entry, index, options.baseUrl)
      if (fullUrl !== undefined && parsed.method !== 'GET' && parsed.method !== 'HEAD') {
        const first = seen.get(fullUrl)
        if (first !== undefined) throw invalid(`fullUrl '${fullUrl}' is used by entry ${first} already: each written resource needs its own`)
        seen.set(fullUrl, index)
      }
      return parsed
    } catch (e) {
      if (!isFhirError(e)) throw e
      return { index, fullUrl, error: e }
    }
  })
  return { type: bundle.type, entries }
}

function parseEntry(entry: unknown, index: number, baseUrl: string): ParsedEntry {
  if (typeof entry !== 'object' || entry === null) throw invalid('An entry must be an object with a request', { code: 'structure' })
  const { fullUrl, resource, request } = entry as BundleEntry
  if (fullUrl !== undefined && (typeof fullUrl !== 'string' || fullUrl === '')) throw invalid('entry.fullUrl must be a non-empty string')
  if (typeof request !== 'object' || request === null) throw invalid('entry.request is required in a batch or transaction', { code: 'required' })
  const method = String(request.method ?? '').toUpperCase() as EntryMethod
  if (!METHODS.has(method)) throw invalid(`entry.request.method '${String(request.method)}' is not GET, HEAD, POST, PUT, PATCH or DELETE`)
  if (typeof request.url !== 'string' || request.url === '') throw invalid('entry.request.url is required', { code: 'required' })
  const target = parseEntryUrl(request.url, baseUrl)
  const common = {
    index,
    ...(fullUrl ? { fullUrl } : {}),
    method,
    url: request.url,
    target,
    ...optionalString('ifMatch', request.ifMatch === undefined ? undefined : versionOf(request.ifMatch)),
    ...optionalString('ifNoneExist', request.ifNoneExist),
    ...optionalString('ifNoneMatch', request.ifNoneMatch),
    ...optionalString('ifModifiedSince', request.ifModifiedSince),
  }
  const type = target.resourceType
  switch (method) {
    case 'POST':
      if (target.form !== 'type' || target.query) throw invalid(`A POST entry's url must be the resource type alone ('${type}'), not '${request.url}'`)
      return { ...common, resource: bodyOf(resource, type) }
    case 'PUT': {
      if (target.form === 'version' || (target.form === 'type' && !target.query)) throw invalid(`A PUT entry's url must be ${type}/[id] or ${type}?[search]`)
      const body = bodyOf(resource, type)
      if (target.form === 'instance' && body.id !== target.id) {
        throw invalid(`Resource id '${String(body.id ?? '')}' does not match the id '${target.id}' in the entry url`, {
          expression: [`${type}.id`],
          messageId: body.id ? 'MSG_RESOURCE_ID_MISMATCH' : 'MSG_RESOURCE_ID_MISSING',
        })
      }
      return { ...common, resource: body }
    }
    case 'PATCH':
      if (target.form === 'version' || (target.form === 'type' && !target.query)) throw invalid(`A PATCH entry's url must be ${type}/[id] or ${type}?[search]`)
      return { ...common, patch: patchOf(resource) }
    case 'DELETE':
      if (target.form === 'version' || (target.form === 'type' && !target.query)) {
        throw invalid(`A DELETE entry's url must be ${type}/[id] or ${type}?[search]; deleting a whole type is not allowed`)
      }
      return common
    default:
      return common
  }
}

function bodyOf(resource: unknown, type: string): Resource {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    throw invalid(`The entry needs a ${type} resource`, { code: 'required', expression: ['resource'] })
  }
  const resourceType = (resource as Resource).resourceType
  if (resourceType !== type) {
    const found = resourceType === undefined ? 'has no resourceType' : `resourceType '${String(resourceType)}' does not match`
    throw invalid(`entry.resource ${found}: the entry url's type is '${type}'`, {
      expression: ['resource.resourceType'],
      messageId: 'MSG_RESOURCE_TYPE_MISMATCH',
    })
  }
  return resource as Resource
}

/** A PATCH entry carries a FHIRPath Patch Parameters, or a JSON Patch as a base64 Binary (http.html#patch). */
function patchOf(resource: unknown): PatchDocument {
  const r = resource as Resource | undefined
  if (r?.resourceType === 'Parameters') return { kind: 'fhirpath-patch', parameters: r as Parameters }
  if (r?.resourceType === 'Binary' && (r as Binary).contentType?.split(';')[0]?.trim() === 'application/json-patch+json') {
    const data = (r as Binary).data ?? ''
    try {
      return { kind: 'json-patch', operations: JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown }
    } catch {
      throw invalid('The Binary of a PATCH entry does not hold base64 JSON Patch text', { expression: ['resource.data'] })
    }
  }
  throw invalid('A PATCH entry needs a Parameters resource (FHIRPath Patch) or a Binary with contentType application/json-patch+json', {
    expression: ['resource'],
  })
}

/** `W/"3"`, `"3"` or `3` → `3`. */
function versionOf(value: unknown): string {
  const m = typeof value === 'string' ? /^\s*(?:W\/)?"?([^"\s]+)"?\s*$/.exec(value) : null
  if (!m?.[1]) throw invalid(`entry.request.ifMatch '${String(value)}' is not an ETag such as W/"3"`, { expression: ['request.ifMatch'] })
  return m[1]
}

function optionalString<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  if (value === undefined) return {}
  if (typeof value !== 'string' || value === '') throw invalid(`entry.request.${key} must be a non-empty string`)
  return { [key]: value } as Record<K, string>
}
