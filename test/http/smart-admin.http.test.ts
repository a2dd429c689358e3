import type { AuditEvent, Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { authorizeUrl, bearer, Browser, codeParams, launch, newClinic, newPublicApp, newUser, pkce, REDIRECT } from './smart-flow.js'

/** The admin API (clients, memberships) for tenant admins, and the AuditEvents auth writes. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function adminOf(role: 'tenant-admin' | 'super-admin' | 'physician' = 'tenant-admin') {
  const clinic = await newClinic(t)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const admin = await newUser(t, clinic.tenant.tenantId, role, null)
  const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'user/*.rs', login: admin.email })
  const call = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, accessToken = token.access_token as string) =>
    t.app.inject({
      method,
      url: `/admin/${clinic.tenant.tenantId}${path}`,
      headers: { ...bearer(accessToken), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
  return { clinic, clientId, admin, token, call }
}

describe('admin API: clients', () => {
  it('registers public, secret and JWKS clients with exact redirect URIs, and lists them without secrets', async () => {
    const { call } = await adminOf()
    const pub = await call('POST', '/clients', { name: 'Mobile', type: 'public', scope: 'launch/patient patient/*.rs', redirect_uris: [REDIRECT] })
    expect(pub.statusCode, pub.body).toBe(201)
    expect(pub.json().client_secret).toBeUndefined()
    const secret = await call('POST', '/clients', { name: 'Portal', type: 'confidential-symmetric', scope: 'user/*.rs', redirect_uris: [REDIRECT] })
    expect(secret.json().client_secret.length).toBeGreaterThanOrEqual(32)
    const jwks = await call('POST', '/clients', { name: 'Lab', type: 'confidential-asymmetric', scope: 'system/Observation.c', jwks_uri: 'http://127.0.0.1:9/jwks.json' })
    expect(jwks.statusCode).toBe(201)
    const list = await call('GET', '/clients')
    expect(list.json().map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['Mobile', 'Portal', 'Lab']))
    expect(list.body).not.toContain('scrypt$')
  })

  it('refuses a redirect URI with a fragment and an asymmetric client without keys', async () => {
    const { call } = await adminOf()
    expect((await call('POST', '/clients', { name: 'x', type: 'public', scope: 'patient/*.rs', redirect_uris: ['https://a.example/cb#frag'] })).statusCode).toBe(400)
    expect((await call('POST', '/clients', { name: 'x', type: 'confidential-asymmetric', scope: 'system/*.rs' })).statusCode).toBe(400)
  })

  it('refuses a physician, and a tenant admin registering an all-clinic app', async () => {
    const physician = await adminOf('physician')
    expect((await physician.call('GET', '/clients')).statusCode).toBe(403)
    const admin = await adminOf()
    expect((await admin.call('POST', '/clients', { name: 'x', type: 'public', scope: 'patient/*.rs', redirect_uris: [REDIRECT], all_tenants: true })).statusCode).toBe(403)
  })
})

describe('admin API: memberships', () => {
  it('adds a physician by email (creating the account) who can then sign in', async () => {
    const { call, clinic, clientId } = await adminOf()
    const email = `new-doc-${Date.now()}@example.org`
    const res = await call('POST', '/memberships', { email, password: 'a good long password', role: 'physician', fhir_user: 'Practitioner/p1' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ role: 'physician', fhir_user: 'Practitioner/p1' })
    const browser = new Browser(t)
    const start = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'user/*.rs', pkce().challenge)))
    const consent = await browser.post('/oauth2/signin', start, { login: email, password: 'a good long password' })
    expect(consent.body).toContain('action="/oauth2/consent"')
  })

  it('refuses a tenant admin granting super-admin, and unknown body fields', async () => {
    const { call } = await adminOf()
    const escalate = await call('POST', '/memberships', { email: `x-${Date.now()}@example.org`, role: 'super-admin' })
    expect(escalate.statusCode).toBe(403)
    const smuggled = await call('POST', '/memberships', { email: `y-${Date.now()}@example.org`, role: 'physician', is_super_admin: true })
    expect(smuggled.statusCode).toBe(400)
  })

  it('lets a super admin grant tenant-admin and remove memberships', async () => {
    const { call } = await adminOf('super-admin')
    const res = await call('POST', '/memberships', { email: `boss-${Date.now()}@example.org`, role: 'tenant-admin' })
    expect(res.statusCode).toBe(201)
    expect((await call('DELETE', `/memberships/${res.json().account_id}`)).statusCode).toBe(204)
  })
})

describe('AuditEvent', () => {
  async function auditEvents(tenant: { request: (m: 'GET', p: string) => Promise<{ json: () => unknown }> }) {
    const bundle = (await tenant.request('GET', '/AuditEvent?_count=100')).json() as Bundle<AuditEvent>
    return (bundle.entry ?? []).map((e) => e.resource!)
  }

  it('records a sign-in, a failed sign-in, a token issue and a token refusal in the tenant', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const browser = new Browser(t)
    const start = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'patient/*.rs', pkce().challenge)))
    await browser.post('/oauth2/signin', start, { login: user.email, password: 'wrong password!' })
    await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'authorization_code', code: 'bogus', redirect_uri: REDIRECT, code_verifier: pkce().verifier, client_id: clientId }).toString(),
    })
    const events = await auditEvents(clinic.tenant)
    const outcomes = events.map((e) => `${e.subtype?.[0]?.display}:${e.outcome}`)
    expect(outcomes).toEqual(expect.arrayContaining(['Login:0', 'Login:4', 'token issued:0', 'token refused:4']))
    const signIn = events.find((e) => e.subtype?.[0]?.display === 'Login' && e.outcome === '0')
    expect(signIn?.agent?.[0]?.who?.reference).toBe(`Patient/${clinic.patient.id}`)
  })
})
