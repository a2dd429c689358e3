import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Resource } from '@medplum/fhirtypes'
import type { StoredResource } from '../resources/index.js'
import { invalid } from '../errors.js'
import { sendJson } from './content-type.js'
import { informationOutcome } from './outcome.js'
import { applyElementFilter, parseElementFilter } from './summary.js'

/** FHIR headers: https://hl7.org/fhir/R4/http.html#versioning, #concurrency, #ops (Prefer). */

export const etagOf = (versionId: string) => `W/"${versionId}"`
export const httpDate = (iso: string) => new Date(iso).toUTCString()

/** Parses `If-Match: W/"3"` (or `"3"`, or a bare 3) to the versionId. */
export function parseIfMatch(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  const m = /^\s*(?:W\/)?"?([^"\s]+)"?\s*$/.exec(value)
  if (!m) throw invalid(`If-Match '${value}' is not an ETag such as W/"3"`, { expression: ['If-Match'] })
  return m[1]
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome'

/** `Prefer: return=...`; unknown preferences are ignored, as RFC 7240 asks. */
export function parsePreferReturn(request: FastifyRequest): ReturnPreference {
  const prefer = request.headers.prefer
  const m = typeof prefer === 'string' ? /(?:^|[;,\s])return\s*=\s*"?(minimal|representation|OperationOutcome)"?/i.exec(prefer) : null
  if (!m) return 'representation'
  const value = m[1]!.toLowerCase()
  return value === 'minimal' ? 'minimal' : value === 'operationoutcome' ? 'OperationOutcome' : 'representation'
}

export function isStrictHandling(request: FastifyRequest): boolean {
  const prefer = request.headers.prefer
  return typeof prefer === 'string' && /(?:^|[;,\s])handling\s*=\s*"?strict"?/i.test(prefer)
}

export function setVersionHeaders(reply: FastifyReply, stored: Pick<StoredResource, 'versionId' | 'lastUpdated'>) {
  reply.header('etag', etagOf(stored.versionId)).header('last-modified', httpDate(stored.lastUpdated))
}

/** Replies with a stored version: ETag/Last-Modified, and `_summary`/`_elements` if asked. */
export function sendResource(request: FastifyRequest, reply: FastifyReply, stored: StoredResource, status = 200) {
  setVersionHeaders(reply, stored)
  const filter = parseElementFilter(request.query as Record<string, unknown>)
  const json = filter ? JSON.stringify(applyElementFilter(JSON.parse(stored.json) as Resource, filter)) : stored.json
  return sendJson(request, reply, json, status)
}

/** Replies to a write honouring `Prefer: return=`. */
export function sendWriteResult(
  request: FastifyRequest,
  reply: FastifyReply,
  stored: StoredResource,
  options: { status: number; location: string; message: string },
) {
  setVersionHeaders(reply, stored)
  reply.header('location', options.location)
  const preference = parsePreferReturn(request)
  if (preference === 'minimal') return reply.code(options.status).send()
  if (preference === 'OperationOutcome') return sendJson(request, reply, JSON.stringify(informationOutcome(options.message)), options.status)
  return sendJson(request, reply, stored.json, options.status)
}

/**
 * Conditional read (https://hl7.org/fhir/R4/http.html#cread): true when the client's copy is
 * current, judged by If-None-Match (preferred) or If-Modified-Since.
 */
export function isNotModified(request: FastifyRequest, stored: StoredResource): boolean {
  const ifNoneMatch = request.headers['if-none-match']
  if (typeof ifNoneMatch === 'string' && ifNoneMatch !== '') {
    return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || parseIfMatch(tag.trim()) === stored.versionId)
  }
  const ifModifiedSince = request.headers['if-modified-since']
  if (typeof ifModifiedSince === 'string' && ifModifiedSince !== '') {
    const since = Date.parse(ifModifiedSince)
    // HTTP dates have second precision: compare at that precision.
    return !Number.isNaN(since) && Math.floor(Date.parse(stored.lastUpdated) / 1000) * 1000 <= since
  }
  return false
}
