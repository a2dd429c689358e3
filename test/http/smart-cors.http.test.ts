import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'

/**
 * CORS for browser SMART apps: the FHIR API and token endpoints answer CORS_ORIGINS, discovery
 * answers any origin, the authorize endpoint and HTML pages none.
 */
const APP = 'https://app.example'
const EVIL = 'https://evil.example'
let t: TestApp
let tenant: TestTenant
beforeAll(async () => {
  t = await buildTestApp({ CORS_ORIGINS: `${APP}, https://other.example` })
  tenant = await t.newTenant()
})
afterAll(() => t.close())

const preflight = (url: string, origin: string, method = 'GET', headers = 'authorization') =>
  t.app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } })

describe('preflight', () => {
  it('answers 204 with the allowed methods and headers on FHIR routes for an allowed origin', async () => {
    for (const path of ['/Patient', '/Patient/123', '', '/Patient/_search', '/Patient/123/_history']) {
      const res = await preflight(`/fhir/${tenant.tenantId}${path}`, APP, 'PUT', 'authorization, content-type, if-match')
      expect(res.statusCode, path).toBe(204)
      expect(res.headers['access-control-allow-origin']).toBe(APP)
      expect(String(res.headers['access-control-allow-methods'])).toContain('PUT')
      expect(String(res.headers['access-control-allow-headers'])).toMatch(/Authorization.*Content-Type.*If-Match/)
      expect(res.headers['access-control-max-age']).toBe('600')
      expect(res.headers.vary).toMatch(/Origin/)
    }
  })

  it('answers the token, introspection and revocation endpoints with POST', async () => {
    for (const url of ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke']) {
      const res = await preflight(url, APP, 'POST', 'content-type')
      expect(res.statusCode, url).toBe(204)
      expect(res.headers['access-control-allow-origin']).toBe(APP)
      expect(res.headers['access-control-allow-methods']).toBe('POST')
    }
  })

  it('refuses an origin that is not configured, with a 403 saying what to configure', async () => {
    const res = await preflight(`/fhir/${tenant.tenantId}/Patient`, EVIL)
    const outcome = expectOutcome(res, { status: 403, code: 'forbidden' })
    expect(outcome.issue?.[0]?.diagnostics).toMatch(/CORS_ORIGINS/)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    const token = await preflight('/oauth2/token', EVIL, 'POST')
    expect(token.statusCode).toBe(403)
    expect(token.json().error).toBe('access_denied')
    expect(token.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('opens discovery to any origin', async () => {
    for (const url of [`/fhir/${tenant.tenantId}/metadata`, `/fhir/${tenant.tenantId}/.well-known/smart-configuration`, '/fhir/.well-known/smart-configuration', '/oauth2/jwks']) {
      const res = await preflight(url, EVIL)
      expect(res.statusCode, url).toBe(204)
      expect(res.headers['access-control-allow-origin']).toBe('*')
    }
  })

  it('gives the authorize endpoint and the account pages no CORS at all', async () => {
    for (const url of ['/oauth2/authorize', '/account/forgot', `/admin/${tenant.tenantId}/clients`]) {
      const res = await preflight(url, APP)
      expect(res.headers['access-control-allow-origin'], url).toBeUndefined()
      expect(res.statusCode, url).not.toBe(204)
      const get = await t.app.inject({ method: 'GET', url, headers: { origin: APP } })
      expect(get.headers['access-control-allow-origin'], url).toBeUndefined()
    }
  })
})

describe('actual requests', () => {
  it('carries the origin and exposes Location, ETag and the other FHIR headers on a create', async () => {
    const res = await tenant.request('POST', '/Patient', { body: { resourceType: 'Patient', active: true }, headers: { origin: APP } })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.headers['access-control-allow-origin']).toBe(APP)
    const exposed = String(res.headers['access-control-expose-headers']).split(/,\s*/)
    expect(exposed).toEqual(expect.arrayContaining(['Location', 'ETag', 'Content-Location', 'X-Progress', 'Retry-After', 'WWW-Authenticate']))
    expect(res.headers.location).toMatch(/\/Patient\//)
  })

  it('lets a browser app read a 401 and its WWW-Authenticate', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}/Patient`, headers: { origin: APP } })
    expect(res.statusCode).toBe(401)
    expect(res.headers['access-control-allow-origin']).toBe(APP)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
  })

  it('answers the token endpoint for an allowed origin but never for another one', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const ok = await t.app.inject({ method: 'POST', url: '/oauth2/token', headers: { ...form, origin: APP }, payload: 'grant_type=client_credentials' })
    expect(ok.headers['access-control-allow-origin']).toBe(APP)
    const evil = await t.app.inject({ method: 'POST', url: '/oauth2/token', headers: { ...form, origin: EVIL }, payload: 'grant_type=client_credentials' })
    expect(evil.headers['access-control-allow-origin']).toBeUndefined()
    expect(evil.json().error).toBeDefined()
  })

  it('sends metadata to any origin as *', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}/metadata`, headers: { origin: EVIL } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe('*')
  })
})

describe('OPTIONS without a preflight', () => {
  it('answers 200 with the Allow header of the path instead of 404', async () => {
    const expectAllow = async (path: string, allow: string) => {
      const res = await t.app.inject({ method: 'OPTIONS', url: `/fhir/${tenant.tenantId}${path}` })
      expect(res.statusCode, path).toBe(200)
      expect(res.headers.allow, path).toBe(allow)
    }
    await expectAllow('/Patient', 'GET, HEAD, POST, OPTIONS')
    await expectAllow('/Patient/1', 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS')
    await expectAllow('/Patient/1/_history/2', 'GET, HEAD, OPTIONS')
    await expectAllow('', 'GET, HEAD, POST, OPTIONS')
    await expectAllow('/Patient/$validate', 'GET, POST, OPTIONS')
  })
})

describe('configuration', () => {
  it('accepts * and lists of origins, and names CORS_ORIGINS when a value is not an origin', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*')
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example,http://localhost:3000' }).corsOrigins).toBe('https://a.example,http://localhost:3000')
    expect(() => loadConfig({ CORS_ORIGINS: 'a.example' })).toThrow(/CORS_ORIGINS/)
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/)
  })

  it('opens the FHIR API to any origin when CORS_ORIGINS is *', async () => {
    const open = await buildTestApp({ CORS_ORIGINS: '*' })
    try {
      const res = await open.app.inject({ method: 'OPTIONS', url: `/fhir/${tenant.tenantId}/Patient`, headers: { origin: EVIL, 'access-control-request-method': 'GET' } })
      expect(res.statusCode).toBe(204)
      expect(res.headers['access-control-allow-origin']).toBe(EVIL)
    } finally {
      await open.close()
    }
  })
})
