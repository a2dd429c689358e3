import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { bearer, exchangeCode, launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/** Refresh tokens (rotation, reuse detection), introspection (RFC 7662) and revocation (RFC 7009). */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function patientLaunch(scope = 'launch/patient patient/*.rs offline_access') {
  const clinic = await newClinic(t)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
  const { token } = await launch(t, { clientId, aud: clinic.aud, scope, login: user.email })
  return { clinic, clientId, token }
}

const refresh = (clientId: string, refreshToken: string, extra: Record<string, string> = {}) =>
  exchangeCode(t, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra })

const introspect = (tenantClient: { client_id: string; client_secret: string }, token: string) =>
  t.app.inject({
    method: 'POST',
    url: '/oauth2/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${tenantClient.client_id}:${tenantClient.client_secret}`).toString('base64')}` },
    payload: new URLSearchParams({ token }).toString(),
  })

describe('refresh tokens', () => {
  it('issues a refresh token for offline_access and rotates it on every use, keeping the patient context', async () => {
    const { clientId, token, clinic } = await patientLaunch()
    expect(token.refresh_token).toBeTruthy()
    const next = await refresh(clientId, token.refresh_token)
    expect(next.statusCode, next.body).toBe(200)
    expect(next.json().refresh_token).not.toBe(token.refresh_token)
    expect(next.json()).toMatchObject({ patient: clinic.patient.id, scope: token.scope })
  })

  it('issues a refresh token for online_access too', async () => {
    const { token } = await patientLaunch('launch/patient patient/*.rs online_access')
    expect(token.refresh_token).toBeTruthy()
  })

  it('issues none without offline_access or online_access', async () => {
    const { token } = await patientLaunch('launch/patient patient/*.rs')
    expect(token.refresh_token).toBeUndefined()
  })

  it('revokes the whole family when a rotated refresh token is used again', async () => {
    const { clientId, token } = await patientLaunch()
    const second = (await refresh(clientId, token.refresh_token)).json().refresh_token
    const reuse = await refresh(clientId, token.refresh_token)
    expect(reuse.statusCode).toBe(400)
    expect(reuse.json().error).toBe('invalid_grant')
    const afterTheft = await refresh(clientId, second)
    expect(afterTheft.json().error).toBe('invalid_grant')
  })

  it('lets a refresh narrow the scope but never widen it', async () => {
    const { clientId, token } = await patientLaunch()
    const wider = await refresh(clientId, token.refresh_token, { scope: `${token.scope} user/*.cruds` })
    expect(wider.json().error).toBe('invalid_scope')
    const { clientId: c2, token: t2 } = await patientLaunch()
    const narrower = await refresh(c2, t2.refresh_token, { scope: 'patient/*.rs' })
    expect(narrower.statusCode, narrower.body).toBe(200)
    expect(narrower.json().scope).toBe('patient/*.rs')
  })

  it("refuses another client's refresh token and revokes it", async () => {
    const { clientId, token, clinic } = await patientLaunch()
    const thief = await newPublicApp(t, clinic.tenant.tenantId)
    expect((await refresh(thief, token.refresh_token)).json().error).toBe('invalid_grant')
    expect((await refresh(clientId, token.refresh_token)).json().error).toBe('invalid_grant')
  })
})

describe('introspection', () => {
  it('describes an active access token of its own tenant with scope, client and patient', async () => {
    const { clientId, token, clinic } = await patientLaunch()
    const rs = await t.services.auth.createClient(clinic.tenant.tenantId, { name: 'resource server', scope: 'system/*.rs' })
    const res = await introspect(rs, token.access_token)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ active: true, scope: token.scope, client_id: clientId, patient: clinic.patient.id })
    expect((await introspect(rs, token.refresh_token)).json()).toMatchObject({ active: true, token_type: 'refresh_token' })
  })

  it("answers only active:false for garbage and for another tenant's token", async () => {
    const { token } = await patientLaunch()
    const other = await newClinic(t)
    const rs = await t.services.auth.createClient(other.tenant.tenantId, { name: 'resource server', scope: 'system/*.rs' })
    expect((await introspect(rs, token.access_token)).json()).toEqual({ active: false })
    expect((await introspect(rs, 'garbage')).json()).toEqual({ active: false })
  })

  it('refuses a public client (introspection needs client authentication)', async () => {
    const { clientId, token } = await patientLaunch()
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth2/introspect',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: token.access_token, client_id: clientId }).toString(),
    })
    expect(res.statusCode).toBe(401)
  })
})

describe('revocation', () => {
  const revoke = (clientId: string, token: string) =>
    t.app.inject({ method: 'POST', url: '/oauth2/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token, client_id: clientId }).toString() })

  it('makes a revoked access token stop working at once, even though it was verified and cached before', async () => {
    const { clientId, token, clinic } = await patientLaunch()
    const url = `/fhir/${clinic.tenant.tenantId}/Patient/${clinic.patient.id}`
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(token.access_token) })).statusCode).toBe(200)
    expect((await revoke(clientId, token.access_token)).statusCode).toBe(200)
    const after = await t.app.inject({ method: 'GET', url, headers: bearer(token.access_token) })
    expect(after.statusCode).toBe(401)
    expect(after.json().issue[0].diagnostics).toMatch(/revoked/)
  })

  it('revokes a refresh token and its family', async () => {
    const { clientId, token } = await patientLaunch()
    expect((await revoke(clientId, token.refresh_token)).statusCode).toBe(200)
    expect((await refresh(clientId, token.refresh_token)).json().error).toBe('invalid_grant')
  })

  it('answers 200 for an unknown token and does not revoke a token of another client', async () => {
    const { token, clinic } = await patientLaunch()
    const other = await newPublicApp(t, clinic.tenant.tenantId)
    expect((await revoke(other, 'unknown')).statusCode).toBe(200)
    expect((await revoke(other, token.access_token)).statusCode).toBe(200)
    const url = `/fhir/${clinic.tenant.tenantId}/Patient/${clinic.patient.id}`
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(token.access_token) })).statusCode).toBe(200)
  })
})
