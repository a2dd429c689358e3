import type { Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** Bearer tokens on every FHIR request (RFC 6750), bound to one tenant; SMART scopes decide the interaction. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


/** A token for a new client of `tenantId` with `scope`, from the token endpoint. */
async function clientToken(tenantId: string, scope: string): Promise<string> {
  const client = await t.services.auth.createClient(tenantId, { name: 'scoped', scope })
  const res = await t.app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', ...client }).toString(),
  })
  expect(res.statusCode, res.body).toBe(200)
  return res.json().access_token as string
}

const get = (url: string, authorization?: string) => t.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} })

describe('authentication', () => {
  it('returns 401 "login" with a Bearer WWW-Authenticate challenge when there is no token', async () => {
    const tenant = await t.newTenant()
    const res = await get(`/fhir/${tenant.tenantId}/Patient`)
    expectOutcome(res, { status: 401, code: 'login', diagnostics: /Authorization/ })
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
  })

  it('returns 401 with WWW-Authenticate for a garbage token', async () => {
    const tenant = await t.newTenant()
    const res = await get(`/fhir/${tenant.tenantId}/Patient`, 'Bearer not.a.jwt')
    expectOutcome(res, { status: 401, code: 'login' })
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /)
  })

  it('returns 401 for a token whose signature was tampered with', async () => {
    const tenant = await t.newTenant()
    const [header, payload, signature] = tenant.token.split('.')
    const forged = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`
    expectOutcome(await get(`/fhir/${tenant.tenantId}/Patient`, `Bearer ${forged}`), { status: 401, code: 'login' })
  })

  it('returns 401 for Basic credentials instead of a Bearer token', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await get(`/fhir/${tenant.tenantId}/Patient`, 'Basic dXNlcjpwYXNz'), { status: 401, code: 'login' })
  })

  it('returns 401 on writes without a token and stores nothing', async () => {
    const tenant = await t.newTenant()
    const res = await t.app.inject({
      method: 'POST',
      url: `/fhir/${tenant.tenantId}/Patient`,
      headers: { 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(makePatient()),
    })
    expectOutcome(res, { status: 401, code: 'login' })
    expect((await tenant.request('GET', '/Patient')).json().total).toBe(0)
  })
})

describe('tenant binding', () => {
  it("returns 401 invalid_token for tenant A's token on tenant B, and for B's token on A (issue 5: wrong tenant is 401)", async () => {
    const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
    const patientOfA = await createPatient(a)
    const patientOfB = await createPatient(b)
    const aOnB = await get(`/fhir/${b.tenantId}/Patient/${patientOfB.id}`, `Bearer ${a.token}`)
    expectOutcome(aOnB, { status: 401, code: 'login' })
    expect(aOnB.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
    expect(aOnB.body).not.toContain(patientOfB.id)
    const bOnA = await get(`/fhir/${a.tenantId}/Patient/${patientOfA.id}`, `Bearer ${b.token}`)
    expectOutcome(bOnA, { status: 401, code: 'login' })
  })

  it("returns 401 for a write with another tenant's token and leaves the resource unchanged", async () => {
    const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
    const patient = await createPatient(a)
    const res = await t.app.inject({
      method: 'PUT',
      url: `/fhir/${a.tenantId}/Patient/${patient.id}`,
      headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/fhir+json' },
      payload: JSON.stringify({ ...patient, active: false }),
    })
    expectOutcome(res, { status: 401, code: 'login' })
    expect(resourceOf(await a.request('GET', `/Patient/${patient.id}`))).toEqual(patient)
  })

  it('returns 404 "not-found" for an unknown tenant, with or without a token', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await get('/fhir/no-such-tenant/Patient', `Bearer ${tenant.token}`), { status: 404, code: 'not-found', diagnostics: /Tenant/ })
    expectOutcome(await get('/fhir/no-such-tenant/metadata'), { status: 404, code: 'not-found' })
  })
})

describe('public discovery', () => {
  it('serves /metadata without a token', async () => {
    const tenant = await t.newTenant()
    const res = await get(`/fhir/${tenant.tenantId}/metadata`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/)
    expect(res.json().resourceType).toBe('CapabilityStatement')
  })

  it('serves /.well-known/smart-configuration without a token, naming the token endpoint', async () => {
    const tenant = await t.newTenant()
    const res = await get(`/fhir/${tenant.tenantId}/.well-known/smart-configuration`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.json()).toMatchObject({ token_endpoint: 'http://fhir.test/oauth2/token' })
    expect(res.json().grant_types_supported).toContain('client_credentials')
  })
})

describe('scopes', () => {
  it('system/*.read can read, vread, search and read history', async () => {
    const writer = await t.newTenant()
    const patient = await createPatient(writer)
    const token = await clientToken(writer.tenantId, 'system/*.read')
    for (const path of [`/Patient/${patient.id}`, `/Patient/${patient.id}/_history/1`, `/Patient?_id=${patient.id}`, `/Patient/${patient.id}/_history`, '/_history']) {
      const res = await get(`/fhir/${writer.tenantId}${path}`, `Bearer ${token}`)
      expect(res.statusCode, `${path}: ${res.body}`).toBe(200)
    }
  })

  it('system/*.read gets 403 "forbidden" on create, update, patch and delete, and nothing changes', async () => {
    const writer = await t.newTenant()
    const patient = await createPatient(writer)
    const token = await clientToken(writer.tenantId, 'system/*.read')
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }
    const base = `/fhir/${writer.tenantId}`
    const attempts = [
      { method: 'POST' as const, url: `${base}/Patient`, payload: JSON.stringify(makePatient()) },
      { method: 'PUT' as const, url: `${base}/Patient/${patient.id}`, payload: JSON.stringify({ ...patient, active: false }) },
      { method: 'PATCH' as const, url: `${base}/Patient/${patient.id}`, payload: '[]', headers: { ...headers, 'content-type': 'application/json-patch+json' } },
      { method: 'DELETE' as const, url: `${base}/Patient/${patient.id}` },
    ]
    for (const attempt of attempts) {
      const res = await t.app.inject({ headers, ...attempt })
      expectOutcome(res, { status: 403, code: 'forbidden', diagnostics: /Scope does not allow/ })
    }
    expect(resourceOf(await writer.request('GET', `/Patient/${patient.id}`))).toEqual(patient)
    expect((await writer.request('GET', '/Patient')).json().total).toBe(1)
  })

  it('a token scoped to system/Patient.* gets 403 on Observation and on system history', async () => {
    const tenant = await t.newTenant({ scope: 'system/Patient.*' })
    expect((await tenant.request('POST', '/Patient', { body: makePatient() })).statusCode).toBe(201)
    expectOutcome(await tenant.request('POST', '/Observation', { body: makeObservation() }), { status: 403, code: 'forbidden' })
    expectOutcome(await tenant.request('GET', '/_history'), { status: 403, code: 'forbidden' })
  })
})
