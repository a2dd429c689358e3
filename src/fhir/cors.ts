import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { forbidden } from '../errors.js'
import { sendOutcome } from './outcome.js'

/**
 * CORS for browser SMART apps (https://fetch.spec.whatwg.org/#http-cors-protocol): the FHIR
 * API and the token, introspection and revocation endpoints answer the origins of CORS_ORIGINS
 * (`*` there opens them to any origin: bearer tokens, never cookies, so no credentials mode);
 * discovery documents (metadata, smart-configuration, openid-configuration, JWKS) are public
 * and answer any origin. The authorize endpoint, the sign-in pages, the account and admin
 * routes get no CORS headers: a page of another origin must never drive them.
 *
 * Hand-written instead of @fastify/cors (not installed) because the policy differs by path.
 */
export interface CorsOptions {
  /** Allowed origins (`https://app.example`), or `*`; from CORS_ORIGINS. */
  readonly origins: readonly string[]
}

type PathClass = 'discovery' | 'fhir' | 'oauth' | 'none'

/** Headers a browser app may read beyond the CORS-safelisted ones. */
const EXPOSE = 'Location, ETag, Content-Location, X-Progress, Retry-After, WWW-Authenticate'
const FHIR_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE'
const FHIR_HEADERS = 'Authorization, Content-Type, Accept, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, Prefer, X-Requested-With'
const OAUTH_HEADERS = 'Authorization, Content-Type, Accept'
const PREFLIGHT_MAX_AGE = '600'

const OAUTH_PATHS = new Set(['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke'])
const DISCOVERY_ROOT = new Set(['/oauth2/jwks', '/fhir/.well-known/smart-configuration'])
const DISCOVERY_IN_TENANT = new Set(['metadata', '.well-known/smart-configuration', '.well-known/openid-configuration'])

/** Adds the CORS hook to the root app, before any route plugin. */
export function registerCors(app: FastifyInstance, options: CorsOptions): void {
  const anyOrigin = options.origins.includes('*')
  const allowed = new Set(options.origins.filter((o) => o !== '*').map((o) => o.toLowerCase()))
  const isAllowed = (origin: string, kind: PathClass) => kind === 'discovery' || anyOrigin || allowed.has(origin.toLowerCase())

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!
    const kind = classify(path)
    if (kind === 'none') return
    const origin = request.headers.origin
    const preflight = request.method === 'OPTIONS' && origin !== undefined && request.headers['access-control-request-method'] !== undefined
    if (origin !== undefined) reply.header('vary', 'Origin')
    if (preflight) return answerPreflight(request, reply, kind, isAllowed(origin, kind) ? origin : undefined)
    if (origin !== undefined && isAllowed(origin, kind)) {
      reply.header('access-control-allow-origin', kind === 'discovery' ? '*' : origin)
      reply.header('access-control-expose-headers', EXPOSE)
    }
    // A plain OPTIONS (no preflight) asks what the resource supports (RFC 9110 §9.3.7).
    if (request.method === 'OPTIONS' && kind !== 'oauth') return reply.code(200).header('allow', allowOf(path)).header('content-length', '0').send()
  })
}

function answerPreflight(request: FastifyRequest, reply: FastifyReply, kind: PathClass, origin: string | undefined) {
  if (origin === undefined) {
    const message = `Origin ${String(request.headers.origin).slice(0, 200)} is not allowed to call this server from a browser; add it to CORS_ORIGINS`
    if (kind === 'fhir') return sendOutcome(reply, forbidden(message))
    return reply.code(403).send({ error: 'access_denied', error_description: message })
  }
  const methods = kind === 'fhir' ? FHIR_METHODS : kind === 'oauth' ? 'POST' : 'GET, HEAD'
  return reply
    .code(204)
    .header('access-control-allow-origin', kind === 'discovery' ? '*' : origin)
    .header('access-control-allow-methods', methods)
    .header('access-control-allow-headers', kind === 'fhir' ? FHIR_HEADERS : OAUTH_HEADERS)
    .header('access-control-max-age', PREFLIGHT_MAX_AGE)
    .send()
}

function classify(path: string): PathClass {
  if (OAUTH_PATHS.has(path)) return 'oauth'
  if (DISCOVERY_ROOT.has(path)) return 'discovery'
  const fhir = /^\/fhir\/[^/]+(?:\/(.*))?$/.exec(path)
  if (!fhir) return 'none'
  return DISCOVERY_IN_TENANT.has((fhir[1] ?? '').replace(/\/+$/, '')) ? 'discovery' : 'fhir'
}

/** The methods a FHIR path answers (https://hl7.org/fhir/R4/http.html), by its shape. */
export function allowOf(path: string): string {
  const rest = (/^\/fhir\/[^/]+\/?(.*)$/.exec(path)?.[1] ?? '').replace(/\/+$/, '')
  const parts = rest === '' ? [] : rest.split('/')
  const last = parts[parts.length - 1] ?? ''
  let methods: string
  if (parts.length === 0) methods = 'GET, HEAD, POST'
  else if (DISCOVERY_IN_TENANT.has(rest) || parts.includes('_history')) methods = 'GET, HEAD'
  else if (last.startsWith('$')) methods = 'GET, POST'
  else if (last === '_search') methods = 'POST'
  else if (parts.length === 1) methods = 'GET, HEAD, POST'
  else methods = 'GET, HEAD, PUT, PATCH, DELETE'
  return `${methods}, OPTIONS`
}

/** CORS_ORIGINS → list (comma-separated; blanks dropped). */
export function parseCorsOrigins(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter((o) => o.length > 0)
}
