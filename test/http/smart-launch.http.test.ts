import { createLocalJWKSet, jwtVerify } from 'jose'
import type { Encounter } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { authorizeUrl, bearer, Browser, codeParams, launch, newClinic, newPublicApp, newUser, pkce, redirectQuery, signInAndAllow } from './smart-flow.js'

/** EHR launch, standalone launch with the patient picker, the clinic picker, and OpenID Connect. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function userToken(tenantId: string, accountEmail: string, clientId: string, aud: string) {
  return (await launch(t, { clientId, aud, scope: 'user/*.cruds', login: accountEmail })).token.access_token as string
}

describe('EHR launch', () => {
  it('puts the patient and encounter the EHR registered into the token response', async () => {
    const clinic = await newClinic(t)
    const encounter = (
      await clinic.tenant.request('POST', '/Encounter', {
        body: { resourceType: 'Encounter', status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${clinic.patient.id}` } },
      })
    ).json<Encounter>()
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const doctor = await newUser(t, clinic.tenant.tenantId, 'physician', 'Practitioner/doc-1')
    const ehrToken = await userToken(clinic.tenant.tenantId, doctor.email, clientId, clinic.aud)
    const registered = await t.app.inject({
      method: 'POST',
      url: `/admin/${clinic.tenant.tenantId}/launch`,
      headers: { ...bearer(ehrToken), 'content-type': 'application/json' },
      payload: JSON.stringify({ patient: clinic.patient.id, encounter: encounter.id }),
    })
    expect(registered.statusCode, registered.body).toBe(201)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch patient/*.rs user/Encounter.rs', login: doctor.email, extra: { launch: registered.json().launch } })
    expect(token).toMatchObject({ patient: clinic.patient.id, encounter: encounter.id, need_patient_banner: true })
  })

  it('refuses an unknown launch value', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const doctor = await newUser(t, clinic.tenant.tenantId, 'physician', 'Practitioner/doc-2')
    const browser = new Browser(t)
    const start = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch patient/*.rs', pkce().challenge, { launch: 'made-up' })))
    const res = await signInAndAllow(browser, start, doctor.email)
    expect(redirectQuery(res).get('error')).toBe('invalid_request')
  })

  it('refuses to register a launch context with a patient token', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    const res = await t.app.inject({
      method: 'POST',
      url: `/admin/${clinic.tenant.tenantId}/launch`,
      headers: { ...bearer(token.access_token), 'content-type': 'application/json' },
      payload: JSON.stringify({ patient: clinic.patient.id }),
    })
    expect(res.statusCode).toBe(403)
  })
})

describe('standalone launch', () => {
  it('asks a physician to pick the patient for launch/patient and puts the pick in the token', async () => {
    const clinic = await newClinic(t)
    const second = (await clinic.tenant.request('POST', '/Patient', { body: makePatient({ name: [{ family: 'Pérez', given: ['Luis'] }] }) })).json()
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const doctor = await newUser(t, clinic.tenant.tenantId, 'physician', 'Practitioner/doc-3')
    const browser = new Browser(t)
    const start = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs', pkce().challenge)))
    const picker = await browser.post('/oauth2/signin', start, { login: doctor.email, password: 'correct horse battery' })
    expect(picker.body).toContain('action="/oauth2/patient"')
    expect(picker.body).toContain('Pérez')
    expect(picker.body).toContain('García')
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: doctor.email, patient: second.id })
    expect(token.patient).toBe(second.id)
  })

  it("gives a patient user their own record as context, without a picker, even when they ask for another patient", async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email, patient: 'someone-else' })
    expect(token).toMatchObject({ patient: clinic.patient.id, need_patient_banner: false })
  })

  it('signs in once: a second app launch in the same browser goes straight to consent', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const browser = new Browser(t)
    await signInAndAllow(browser, await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'patient/*.rs', pkce().challenge))), user.email)
    const again = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'patient/*.rs', pkce().challenge)))
    expect(again.body).toContain('action="/oauth2/consent"')
  })
})

describe('clinic picker', () => {
  it('lets a patient of several clinics sign in once and pick the clinic for an all-clinic app', async () => {
    const [a, b] = await Promise.all([newClinic(t), newClinic(t)])
    const clientId = await newPublicApp(t, a.tenant.tenantId, 'launch/patient patient/*.rs openid fhirUser', { allTenants: true })
    const user = await newUser(t, a.tenant.tenantId, 'patient', `Patient/${a.patient.id}`)
    await t.services.auth.setMembership(b.tenant.tenantId, user.accountId, 'patient', `Patient/${b.patient.id}`)
    const browser = new Browser(t)
    const { verifier, challenge } = pkce()
    const start = await browser.get(authorizeUrl(codeParams(clientId, `${t.config.baseUrl}/fhir`, 'launch/patient patient/*.rs', challenge)))
    const picker = await browser.post('/oauth2/signin', start, { login: user.email, password: 'correct horse battery' })
    expect(picker.body).toContain('action="/oauth2/clinic"')
    expect(picker.body).toContain(`value="${a.tenant.tenantId}"`)
    expect(picker.body).toContain(`value="${b.tenant.tenantId}"`)
    const done = await signInAndAllow(browser, picker, user.email, { tenant: b.tenant.tenantId })
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'authorization_code', code: redirectQuery(done).get('code') ?? '', redirect_uri: 'https://app.example/callback', code_verifier: verifier, client_id: clientId }).toString(),
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ patient: b.patient.id, fhir_base: b.aud })
    const read = await t.app.inject({ method: 'GET', url: `/fhir/${b.tenant.tenantId}/Patient/${b.patient.id}`, headers: bearer(res.json().access_token) })
    expect(read.statusCode).toBe(200)
    const crossed = await t.app.inject({ method: 'GET', url: `/fhir/${a.tenant.tenantId}/Patient/${a.patient.id}`, headers: bearer(res.json().access_token) })
    expect(crossed.statusCode).toBe(401)
  })

  it('refuses a clinic where the account has no membership, even if posted by hand', async () => {
    const [a, b, c] = await Promise.all([newClinic(t), newClinic(t), newClinic(t)])
    const clientId = await newPublicApp(t, a.tenant.tenantId, 'launch/patient patient/*.rs', { allTenants: true })
    const user = await newUser(t, a.tenant.tenantId, 'patient', `Patient/${a.patient.id}`)
    await t.services.auth.setMembership(b.tenant.tenantId, user.accountId, 'patient', `Patient/${b.patient.id}`)
    const browser = new Browser(t)
    const start = await browser.get(authorizeUrl(codeParams(clientId, `${t.config.baseUrl}/fhir`, 'launch/patient patient/*.rs', pkce().challenge)))
    const picker = await browser.post('/oauth2/signin', start, { login: user.email, password: 'correct horse battery' })
    const res = await browser.post('/oauth2/clinic', picker, { tenant: c.tenant.tenantId })
    expect(res.statusCode).toBe(400)
    expect(res.headers.location).toBeUndefined()
  })
})

describe('OpenID Connect', () => {
  it('returns an RS256 id_token for openid fhirUser whose fhirUser is the absolute identity, verifiable with the JWKS', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const doctor = await newUser(t, clinic.tenant.tenantId, 'physician', 'Practitioner/doc-9')
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'openid fhirUser user/*.rs', login: doctor.email, extra: { nonce: 'n-123' } })
    const jwks = (await t.app.inject({ method: 'GET', url: '/oauth2/jwks' })).json()
    const config = (await t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}/.well-known/openid-configuration` })).json()
    const { payload, protectedHeader } = await jwtVerify(token.id_token, createLocalJWKSet(jwks), { issuer: config.issuer, audience: clientId })
    expect(protectedHeader.alg).toBe('RS256')
    expect(payload).toMatchObject({ sub: doctor.accountId, nonce: 'n-123', fhirUser: `${clinic.aud}/Practitioner/doc-9` })
  })

  it('leaves fhirUser out of the granted scope for an account without a FHIR identity', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const admin = await newUser(t, clinic.tenant.tenantId, 'tenant-admin', null)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'openid fhirUser user/*.rs', login: admin.email })
    expect(token.scope.split(' ')).not.toContain('fhirUser')
    expect(token.id_token).toBeDefined()
  })
})
