import { describe, expect, it } from 'vitest'
import { FhirError, invalid } from '../../src/errors.js'
import { parseEntryUrl } from '../../src/bundles/entry-url.js'
import { atEntry } from '../../src/bundles/located-error.js'
import { isRejected, parseBundle } from '../../src/bundles/parse.js'
import type { ParsedEntry, RejectedEntry } from '../../src/bundles/types.js'

/** Bundle and entry shape — https://hl7.org/fhir/R4/http.html#transaction, bundle.html */
const BASE = 'http://fhir.test/fhir/clinic'
const options = { baseUrl: BASE, maxEntries: 5 }

function thrown(fn: () => unknown): FhirError {
  try {
    fn()
  } catch (e) {
    if (e instanceof FhirError) return e
    throw e
  }
  throw new Error('expected a FhirError')
}

const one = (entry: unknown): ParsedEntry | RejectedEntry => parseBundle({ resourceType: 'Bundle', type: 'batch', entry: [entry] }, options).entries[0]!
const rejection = (entry: unknown): FhirError => {
  const parsed = one(entry)
  if (!isRejected(parsed)) throw new Error(`expected a rejected entry, got ${JSON.stringify(parsed)}`)
  return parsed.error
}

describe('parseEntryUrl', () => {
  it('reads type, instance, version and conditional forms, relative or with a leading slash', () => {
    expect(parseEntryUrl('Patient', BASE)).toEqual({ form: 'type', resourceType: 'Patient' })
    expect(parseEntryUrl('/Patient/123', BASE)).toEqual({ form: 'instance', resourceType: 'Patient', id: '123' })
    expect(parseEntryUrl('Patient/123/_history/2', BASE)).toEqual({ form: 'version', resourceType: 'Patient', id: '123', versionId: '2' })
    expect(parseEntryUrl('Patient?identifier=http://x|1', BASE)).toEqual({ form: 'type', resourceType: 'Patient', query: 'identifier=http://x|1' })
  })

  it('accepts an absolute URL on this base and refuses one on another server with invalid', () => {
    expect(parseEntryUrl(`${BASE}/Observation/o1`, BASE)).toEqual({ form: 'instance', resourceType: 'Observation', id: 'o1' })
    expect(thrown(() => parseEntryUrl('http://elsewhere.example/fhir/Patient/1', BASE)).kind).toBe('invalid')
  })

  it('answers not-found for an unknown resource type and invalid for operations and history listings', () => {
    expect(thrown(() => parseEntryUrl('Patinet/1', BASE)).kind).toBe('not-found')
    expect(thrown(() => parseEntryUrl('Patient/$validate', BASE)).kind).toBe('invalid')
    expect(thrown(() => parseEntryUrl('Patient/1/_history', BASE)).kind).toBe('invalid')
  })
})

describe('parseBundle', () => {
  it('refuses a body that is not a Bundle, and a Bundle that is neither batch nor transaction, with invalid', () => {
    expect(thrown(() => parseBundle({ resourceType: 'Patient' }, options)).kind).toBe('invalid')
    expect(thrown(() => parseBundle([], options)).kind).toBe('invalid')
    const e = thrown(() => parseBundle({ resourceType: 'Bundle', type: 'document', entry: [] }, options))
    expect(e.kind).toBe('invalid')
    expect(e.message).toContain("'document'")
  })

  it('refuses more entries than the limit with payload-too-large naming MAX_BUNDLE_ENTRIES', () => {
    const entry = { request: { method: 'GET', url: 'Patient' } }
    const e = thrown(() => parseBundle({ resourceType: 'Bundle', type: 'transaction', entry: Array(6).fill(entry) }, options))
    expect(e.kind).toBe('payload-too-large')
    expect(e.message).toMatch(/6 entries.*at most 5.*MAX_BUNDLE_ENTRIES/)
  })

  it('rejects an entry without a request, or with an unknown method, and keeps the others', () => {
    const parsed = parseBundle(
      { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Patient' } }, { request: { method: 'GET', url: 'Patient/1' } }, { request: { method: 'COPY', url: 'Patient' } }] },
      options,
    ).entries
    expect(parsed.map(isRejected)).toEqual([true, false, true])
  })

  it('rejects a POST whose url carries an id and a POST whose resource type differs from the url', () => {
    expect(rejection({ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient/1' } }).message).toMatch(/resource type alone/)
    expect(rejection({ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Observation' } }).issues[0]?.messageId).toBe('MSG_RESOURCE_TYPE_MISMATCH')
  })

  it('rejects a PUT whose resource id differs from the url id, or is missing', () => {
    expect(rejection({ resource: { resourceType: 'Patient', id: 'b' }, request: { method: 'PUT', url: 'Patient/a' } }).issues[0]?.messageId).toBe('MSG_RESOURCE_ID_MISMATCH')
    expect(rejection({ resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: 'Patient/a' } }).issues[0]?.messageId).toBe('MSG_RESOURCE_ID_MISSING')
  })

  it('rejects a DELETE of a whole type (no id, no search)', () => {
    expect(rejection({ request: { method: 'DELETE', url: 'Patient' } }).message).toMatch(/deleting a whole type/)
  })

  it('rejects the second written entry that reuses a fullUrl', () => {
    const entry = { fullUrl: 'urn:uuid:a', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }
    const parsed = parseBundle({ resourceType: 'Bundle', type: 'batch', entry: [entry, entry] }, options).entries
    expect(isRejected(parsed[0]!)).toBe(false)
    expect(isRejected(parsed[1]!) && parsed[1].error.message).toMatch(/used by entry 0/)
  })

  it('reads ifMatch W/"3" as version 3 and keeps ifNoneExist as given', () => {
    const parsed = one({ resource: { resourceType: 'Patient', id: 'a' }, request: { method: 'PUT', url: 'Patient/a', ifMatch: 'W/"3"' } }) as ParsedEntry
    expect(parsed.ifMatch).toBe('3')
    const post = one({ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=s|1' } }) as ParsedEntry
    expect(post.ifNoneExist).toBe('identifier=s|1')
  })

  it('decodes a JSON Patch carried as a base64 Binary and takes a Parameters resource as FHIRPath Patch', () => {
    const ops = [{ op: 'replace', path: '/active', value: false }]
    const data = Buffer.from(JSON.stringify(ops)).toString('base64')
    const json = one({ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: 'Patient/a' } }) as ParsedEntry
    expect(json.patch).toEqual({ kind: 'json-patch', operations: ops })
    const fp = one({ resource: { resourceType: 'Parameters', parameter: [] }, request: { method: 'PATCH', url: 'Patient/a' } }) as ParsedEntry
    expect(fp.patch?.kind).toBe('fhirpath-patch')
    expect(rejection({ resource: { resourceType: 'Patient' }, request: { method: 'PATCH', url: 'Patient/a' } }).kind).toBe('invalid')
  })
})

describe('atEntry', () => {
  it('names the entry index and fullUrl in diagnostics, puts Bundle.entry[i] first and re-roots resource expressions', () => {
    const located = atEntry({ index: 3, fullUrl: 'urn:uuid:x' }, invalid('birthDate is not a date', { expression: ['Patient.birthDate'] }), 'Patient')
    expect(located.kind).toBe('invalid')
    expect(located.issues[0]?.diagnostics).toBe('Bundle.entry[3] (fullUrl urn:uuid:x): birthDate is not a date')
    expect(located.issues[0]?.expression).toEqual(['Bundle.entry[3]', 'Bundle.entry[3].resource.birthDate'])
  })

  it('keeps the kind (and so the status) of the entry error', () => {
    expect(atEntry({ index: 0 }, new FhirError('precondition-failed', 'x')).kind).toBe('precondition-failed')
  })
})
