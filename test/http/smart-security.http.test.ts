import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { entriesOf } from '../setup/outcome.js'
import { bearer, exchangeCode, launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/** Security regression tests of issue 5, item 8. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function clinicWithDoctor() {
  const clinic = await newClinic(t)
  const clientId = await newPublicApp(t, clinic.tenant.tenantId)
  const doctor = await newUser(t, clinic.tenant.tenantId, 'physician', 'Practitioner/d1')
  const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'user/*.cruds', login: doctor.email })
  return { clinic, clientId, token: token.access_token as string }
}

describe('cross-tenant access', () => {
  it('refuses reads, searches and writes with a user token of the other clinic, in both directions', async () => {
    const [a, b] = await Promise.all([clinicWithDoctor(), clinicWithDoctor()])
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const base = `/fhir/${to.clinic.tenant.tenantId}`
      const read = await t.app.inject({ method: 'GET', url: `${base}/Patient/${to.clinic.patient.id}`, headers: bearer(from.token) })
      const search = await t.app.inject({ method: 'GET', url: `${base}/Patient`, headers: bearer(from.token) })
      const write = await t.app.inject({
        method: 'PUT',
        url: `${base}/Patient/${to.clinic.patient.id}`,
        headers: { ...bearer(from.token), 'content-type': 'application/fhir+json' },
        payload: JSON.stringify({ ...to.clinic.patient, active: false }),
      })
      for (const res of [read, search, write]) {
        expect(res.statusCode).toBe(401)
        expect(res.body).not.toContain('García')
      }
      const admin = await t.app.inject({ method: 'GET', url: `/admin/${to.clinic.tenant.tenantId}/clients`, headers: bearer(from.token) })
      expect(admin.statusCode).toBe(401)
    }
    expect((await a.clinic.tenant.request('GET', `/Patient/${a.clinic.patient.id}`)).json<Patient>().active).toBe(true)
  })
})

describe("a patient reaching another patient's data", () => {
  async function setup() {
    const clinic = await newClinic(t)
    const other = (await clinic.tenant.request('POST', '/Patient', { body: makePatient({ name: [{ family: 'Secreto', given: ['Otro'] }] }) })).json<Patient>()
    const theirs = (await clinic.tenant.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${other.id}` } }) })).json<Observation>()
    const mine = (await clinic.tenant.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` } }) })).json<Observation>()
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    const get = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}${path}`, headers: bearer(token.access_token) })
    return { clinic, other, theirs, mine, get }
  }

  // A leak is their data in the reply: an entry of theirs, or their name. (The reply may echo the
  // id the caller itself sent, as a self link or in "Resource … is not known".)
  const leaks = (res: { statusCode: number; body: string; json: () => unknown }, other: Patient, theirs: Observation) =>
    res.body.includes('Secreto') ||
    (res.statusCode === 200 && JSON.stringify(((res.json() as { entry?: { resource?: { id?: string } }[] }).entry ?? []).map((e) => e.resource?.id)).match(new RegExp(`${other.id}|${theirs.id}`)) !== null)

  it('gets 404 by id, for the Patient and for their Observation', async () => {
    const { get, other, theirs } = await setup()
    for (const path of [`/Patient/${other.id}`, `/Observation/${theirs.id}`]) {
      const res = await get(path)
      expect(res.statusCode).toBe(404)
    }
  })

  it('finds nothing of theirs by search, by _id, by _include and by a chained parameter', async () => {
    const { get, other, theirs, mine } = await setup()
    const paths = [
      '/Patient',
      `/Patient?_id=${other.id}`,
      `/Observation?_id=${theirs.id},${mine.id}`,
      `/Observation?subject=Patient/${other.id}`,
      '/Observation?_include=Observation:subject',
      `/Patient?_revinclude=Observation:subject&_id=${other.id}`,
      '/Observation?subject.family=Secreto',
      `/Patient?_has:Observation:subject:_id=${theirs.id}`,
    ]
    for (const path of paths) {
      const res = await get(path)
      expect([200, 400], `${path}: ${res.body}`).toContain(res.statusCode)
      expect(leaks(res, other, theirs), `${path} leaked: ${res.body}`).toBe(false)
      if (res.statusCode === 200) for (const e of entriesOf(res)) expect([clinicPatientOf(e.resource), mine.id]).toContain(e.resource?.id)
    }
  })

  it('cannot reach them through history at any level', async () => {
    const { get, other, theirs } = await setup()
    for (const path of [`/Patient/${other.id}/_history`, `/Observation/${theirs.id}/_history/1`, '/Observation/_history', '/Patient/_history']) {
      const res = await get(path)
      expect(leaks(res, other, theirs), `${path} leaked: ${res.body}`).toBe(false)
    }
  })
})

describe('Bundles', () => {
  it("checks each entry of a patient token's batch: another patient's data is not found and cannot be written", async () => {
    const clinic = await newClinic(t)
    const other = (await clinic.tenant.request('POST', '/Patient', { body: makePatient({ name: [{ family: 'Secreto' }] }) })).json<Patient>()
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs patient/Observation.cru', login: user.email })
    const bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Patient/${other.id}` } },
        { request: { method: 'POST', url: 'Observation' }, resource: makeObservation({ subject: { reference: `Patient/${other.id}` } }) },
        { request: { method: 'GET', url: `Patient/${clinic.patient.id}` } },
      ],
    }
    const res = await t.app.inject({ method: 'POST', url: `/fhir/${clinic.tenant.tenantId}`, headers: { ...bearer(token.access_token), 'content-type': 'application/fhir+json' }, payload: JSON.stringify(bundle) })
    expect(res.statusCode, res.body).toBe(200)
    const statuses = (res.json().entry as { response: { status: string } }[]).map((e) => e.response.status.slice(0, 3))
    expect(statuses).toEqual(['404', '403', '200'])
    expect(res.body).not.toContain('Secreto')
  })
})

describe('privilege escalation', () => {
  it('refuses a patient token on every membership and client route, whatever the body says', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    const post = (path: string, body: unknown) =>
      t.app.inject({ method: 'POST', url: `/admin/${clinic.tenant.tenantId}${path}`, headers: { ...bearer(token.access_token), 'content-type': 'application/json' }, payload: JSON.stringify(body) })
    expect((await post('/memberships', { account_id: user.accountId, role: 'tenant-admin' })).statusCode).toBe(403)
    expect((await post('/memberships', { account_id: user.accountId, role: 'super-admin', fhir_user: 'Practitioner/x' })).statusCode).toBe(403)
    expect((await post('/clients', { name: 'mine', type: 'public', scope: 'user/*.cruds', redirect_uris: ['https://x.example/cb'] })).statusCode).toBe(403)
  })

  it('ignores a role claimed in the token request form', async () => {
    const clinic = await newClinic(t)
    const client = await t.services.auth.createClient(clinic.tenant.tenantId, { name: 'backend', scope: 'system/Patient.rs' })
    const res = await exchangeCode(t, { grant_type: 'client_credentials', ...client, role: 'super-admin', scope: 'system/*.cruds user/*.cruds' })
    expect(res.statusCode).toBe(200)
    expect(res.json().scope).toBe('system/Patient.rs')
    const payload = JSON.parse(Buffer.from(res.json().access_token.split('.')[1], 'base64url').toString())
    expect(payload.role).toBeUndefined()
  })
})

describe('authentication cannot be skipped', () => {
  it('ignores headers that claim an identity and paths that dress up as public ones', async () => {
    const clinic = await newClinic(t)
    const id = clinic.patient.id
    const headers = { 'x-forwarded-user': 'admin', 'x-user': 'admin', 'x-tenant': clinic.tenant.tenantId, 'x-auth-bypass': '1', 'x-original-url': '/metadata', 'x-rewrite-url': '/metadata' }
    const attempts = [
      { url: `/fhir/${clinic.tenant.tenantId}/Patient/${id}`, headers },
      { url: `/fhir/${clinic.tenant.tenantId}/Patient/${id}?x=/metadata` },
      { url: `/fhir/${clinic.tenant.tenantId}/Patient?_format=json&.well-known/smart-configuration` },
      { url: `/fhir/${clinic.tenant.tenantId}/metadata/../Patient/${id}` },
      { url: `/fhir/${clinic.tenant.tenantId}/.well-known/smart-configuration/../../Patient/${id}` },
      { url: `/fhir/${clinic.tenant.tenantId}/%2e%2e/${clinic.tenant.tenantId}/Patient/${id}` },
      { url: `/fhir/${clinic.tenant.tenantId}/Patient/${id}`, headers: { authorization: 'Bearer ' } },
      { url: `/fhir/${clinic.tenant.tenantId}/Patient/${id}`, headers: { authorization: `Bearer ${unsignedToken(clinic.tenant.tenantId)}` } },
    ]
    for (const attempt of attempts) {
      const res = await t.app.inject({ method: 'GET', ...attempt })
      expect([401, 404], `${attempt.url}: ${res.statusCode}`).toContain(res.statusCode)
      expect(res.body, attempt.url).not.toContain('García')
    }
  })
})

describe('replay', () => {
  it('refuses an authorization code used twice and a refresh token used after rotation', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const { token, code, verifier } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs offline_access', login: user.email })
    const again = await exchangeCode(t, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/callback', code_verifier: verifier, client_id: clientId })
    expect(again.json().error).toBe('invalid_grant')
    // The first code's refresh family was revoked by the replay.
    expect((await exchangeCode(t, { grant_type: 'refresh_token', refresh_token: token.refresh_token, client_id: clientId })).json().error).toBe('invalid_grant')
  })
})

describe('production start-up', () => {
  const production = { NODE_ENV: 'production', AUTH_SECRET: 'k'.repeat(48) }

  it('refuses a missing or short AUTH_SECRET and a default admin password', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError)
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_SECRET: 'short-secret' })).toThrow(/AUTH_SECRET/)
    expect(() => loadConfig({ ...production, BOOTSTRAP_TENANT: 'demo', BOOTSTRAP_CLIENT_ID: 'c', BOOTSTRAP_CLIENT_SECRET: 'a-long-random-bootstrap-secret', BOOTSTRAP_ADMIN_EMAIL: 'a@b.org', BOOTSTRAP_ADMIN_PASSWORD: 'change-me-admin-password' })).toThrow(/BOOTSTRAP_ADMIN_PASSWORD/)
    expect(() => loadConfig({ ...production, BOOTSTRAP_TENANT: 'demo', BOOTSTRAP_CLIENT_ID: 'c', BOOTSTRAP_CLIENT_SECRET: 'change-me-to-a-long-secret' })).toThrow(/BOOTSTRAP_CLIENT_SECRET/)
    expect(loadConfig(production).environment).toBe('production')
  })

  it('exits non-zero with the reason when started in production without AUTH_SECRET', async () => {
    const run = promisify(execFile)
    const error = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0' }, timeout: 30_000 }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    )
    expect(error?.code).toBe(1)
    expect(error?.stderr).toMatch(/AUTH_SECRET must be set/)
  })
})

/** An entry that is the patient's own Patient resource counts as theirs to see. */
const clinicPatientOf = (resource: { resourceType?: string; id?: string } | undefined) => (resource?.resourceType === 'Patient' ? resource.id : undefined)

function unsignedToken(tenantId: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: 'http://fhir.test', aud: `http://fhir.test/fhir/${tenantId}`, tenant: tenantId, scope: 'system/*.*', client_id: 'x', exp: 9999999999, jti: 'j' })}.`
}
