import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FhirError, invalid } from '../errors.js'
import { attachNumberText } from '../resources/index.js'

/** Media types accepted as request bodies (https://hl7.org/fhir/R4/http.html#mime-type). */
export const JSON_BODY_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json']
const FHIR_JSON = 'application/fhir+json; charset=utf-8'
const PLAIN_JSON = 'application/json; charset=utf-8'

/**
 * Registers the JSON body parsers for the FHIR scope. An empty body is accepted (clients send a
 * JSON Content-Type on GET and DELETE); nesting deeper than `maxDepth` is refused before parsing,
 * so a hostile body cannot blow the stack.
 */
export function registerBodyParsers(app: FastifyInstance, options: { bodyLimit: number; maxDepth: number }) {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JSON_BODY_TYPES, { parseAs: 'string', bodyLimit: options.bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string, options.maxDepth))
    } catch (e) {
      done(e as Error, undefined)
    }
  })
  // NDJSON ($import uploads) stays the raw request stream: the operation spools it to disk
  // (src/operations/import/upload.ts) instead of holding gigabytes in memory.
  app.addContentTypeParser(['application/fhir+ndjson', 'application/ndjson', 'application/x-ndjson'], (_req, payload, done) => done(null, payload))
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: options.bodyLimit }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string))
  })
}

export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.trim() === '') return undefined
  const depth = jsonDepth(text)
  if (depth > maxDepth) {
    throw invalid(`JSON body is nested ${depth} levels deep; the limit is ${maxDepth}`, { code: 'structure' })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw invalid(`Request body is not valid JSON: ${(e as Error).message}`, { code: 'structure' })
  }
  // Fastify's own JSON parser refuses these keys (secure-json-parse); this parser replaces it, so
  // it must too: a stored `__proto__` key pollutes prototypes in any code that merges the resource.
  // The quick text test keeps the walk off the hot path (escapes such as \u005f can spell the key).
  if (/__proto__|constructor|\\u00/.test(text)) assertNoPrototypeKeys(parsed)
  attachNumberText(parsed, text)
  return parsed
}

function assertNoPrototypeKeys(value: unknown): void {
  if (typeof value !== 'object' || value === null) return
  if (Array.isArray(value)) {
    for (const item of value) assertNoPrototypeKeys(item)
    return
  }
  for (const [key, child] of Object.entries(value)) {
    const isPrototypeKey =
      key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype'))
    if (isPrototypeKey) throw invalid(`Request body uses the forbidden property name '${key}'`, { code: 'structure' })
    assertNoPrototypeKeys(child)
  }
}

/** Maximum nesting of objects/arrays, ignoring brackets inside strings. */
export function jsonDepth(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth
    } else if (c === 125 || c === 93) depth--
  }
  return max
}

/**
 * Picks the response media type from `_format` (which wins) or `Accept`; 406 when the client
 * accepts nothing JSON (https://hl7.org/fhir/R4/http.html#mime-type).
 */
export function negotiateResponseType(request: FastifyRequest): string {
  const format = (request.query as Record<string, unknown> | undefined)?._format
  if (typeof format === 'string' && format !== '') {
    if (['json', 'application/fhir+json', 'application/json', 'application/json+fhir'].includes(format.split(';')[0]!.trim())) {
      return format.includes('fhir') ? FHIR_JSON : format === 'json' ? FHIR_JSON : PLAIN_JSON
    }
    throw new FhirError('not-acceptable', `_format '${format}' is not supported: this server speaks JSON (_format=json)`)
  }
  const accept = request.headers.accept
  if (!accept) return FHIR_JSON
  const types = accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase())
  if (types.some((t) => t === 'application/fhir+json' || t === 'application/json+fhir')) return FHIR_JSON
  if (types.includes('application/json')) return PLAIN_JSON
  if (types.some((t) => t === '*/*' || t === 'application/*' || t === '' || t.endsWith('+json'))) return FHIR_JSON
  throw new FhirError('not-acceptable', `Cannot answer in ${accept}: this server produces application/fhir+json or application/json`)
}

/** Sends JSON text, re-indented when `_pretty=true`. */
export function sendJson(request: FastifyRequest, reply: FastifyReply, json: string, status = 200) {
  const pretty = (request.query as Record<string, unknown> | undefined)?._pretty === 'true'
  const body = pretty ? JSON.stringify(JSON.parse(json), null, 2) : json
  return reply.code(status).type(request.fhir?.responseType ?? FHIR_JSON).send(body)
}
