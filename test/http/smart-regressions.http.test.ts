import type { Bundle, Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { entriesOf, expectOutcome } from '../setup/outcome.js'
import { authorizeUrl, bearer, Browser, codeParams, exchangeCode, newClinic, newPublicApp, newUser, PASSWORD, pkce, REDIRECT, redirectQuery, signInAndAllow } from './smart-flow.js'

/**
 * Issue 5 item 8, the lines smart-security.http.test.ts leaves open: backend tokens across
 * tenants, `_include`/`_revinclude`/chained/`_has` searches held to a patient's compartment
 * (strictly: 200 and nothing of theirs), and role escalation through form fields.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

describe('cross-tenant access with backend-service tokens', () => {
  it("refuses a system token on the other clinic's base for read, search and create, in both directions", async () => {
    const [a, b] = await Promise.all([newClinic(t), newClinic(t)])
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const base = `/fhir/${to.tenant.tenantId}`
      const headers = bearer(from.tenant.token)
      const read = await t.app.inject({ method: 'GET', url: `${base}/Patient/${to.patient.id}`, headers })
      const search = await t.app.inject({ method: 'GET', url: `${base}/Patient?family=García`, headers })
      const create = await t.app.inject({ method: 'POST', url: `${base}/Patient`, headers: { ...headers, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(makePatient({ name: [{ family: 'Intruso' }] })) })
      for (const res of [read, search, create]) {
        expect(res.statusCode).toBe(401)
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
        expect(res.body).not.toContain('García')
      }
      expect(entriesOf(await to.tenant.request('GET', '/Patient?family=Intruso'))).toHaveLength(0)
    }
  })
})

describe("a patient token and another patient's data in linked searches", () => {
  async function setup() {
    const clinic = await newClinic(t)
    const other = (await clinic.tenant.request('POST', '/Patient', { body: makePatient({ name: [{ family: 'Secreto' }] }) })).json<Patient>()
    const post = async (o: Observation) => (await clinic.tenant.request('POST', '/Observation', { body: o })).json<Observation>()
    const mine = await post(makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` } }))
    const theirs = await post(makeObservation({ subject: { reference: `Patient/${other.id}` } }))
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const browser = new Browser(t)
    const { verifier, challenge } = pkce()
    const start = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs', challenge)))
    const query = redirectQuery(await signInAndAllow(browser, start, user.email))
    const token = (await exchangeCode(t, { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId })).json().access_token as string
    const raw = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}${path}`, headers: bearer(token) })
    const get = async (path: string) => {
      const res = await raw(path)
      expect(res.statusCode, `${path}: ${res.body}`).toBe(200)
      const bundle = res.json<Bundle>()
      // The self link echoes the caller's own query; their data must be nowhere in the entries.
      expect(JSON.stringify(bundle.entry ?? []), path).not.toContain('Secreto')
      const ids = (mode: string) => (bundle.entry ?? []).filter((e) => (e.search?.mode ?? 'match') === mode).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
      return { matches: ids('match'), includes: ids('include'), total: bundle.total }
    }
    return { clinic, other, mine, theirs, get, raw, post }
  }

  it('_include of Observation:subject brings its own Patient only', async () => {
    const { get, clinic, mine } = await setup()
    const res = await get('/Observation?_include=Observation:subject')
    expect(res.matches).toEqual([`Observation/${mine.id}`])
    expect(res.includes).toEqual([`Patient/${clinic.patient.id}`])
  })

  it("_include does not follow a reference from its own resource to another patient", async () => {
    const { get, post, clinic, other } = await setup()
    const shared = await post(makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` }, performer: [{ reference: `Patient/${other.id}` }] }))
    const res = await get(`/Observation?_id=${shared.id}&_include=Observation:performer`)
    expect(res.matches).toEqual([`Observation/${shared.id}`])
    expect(res.includes).toEqual([])
  })

  it('_revinclude from its Patient brings its own Observations only', async () => {
    const { get, clinic, mine } = await setup()
    const res = await get('/Patient?_revinclude=Observation:subject')
    expect(res.matches).toEqual([`Patient/${clinic.patient.id}`])
    expect(res.includes).toEqual([`Observation/${mine.id}`])
  })

  it("a chained parameter finds its own data by its own name and nothing by the other's", async () => {
    const { get, raw, mine } = await setup()
    expect((await get('/Observation?subject:Patient.family=García')).matches).toEqual([`Observation/${mine.id}`])
    // The self link shows the chain as sent, not the ids it was resolved to.
    const self = (await raw('/Observation?subject:Patient.family=García')).json<Bundle>().link?.find((l) => l.relation === 'self')?.url ?? ''
    expect([...new URL(self).searchParams.keys()]).toEqual(['subject:Patient.family', '_count'])
    const theirs = await get('/Observation?subject:Patient.family=Secreto')
    expect(theirs.matches).toEqual([])
    expect(theirs.total).toBe(0)
  })

  it("a chain through its own resource cannot test another patient's name", async () => {
    const { get, post, clinic, other } = await setup()
    await post(makeObservation({ subject: { reference: `Patient/${clinic.patient.id}` }, performer: [{ reference: `Patient/${other.id}` }] }))
    // Whether this matches would tell that the other patient is named Secreto.
    const probe = await get('/Observation?performer:Patient.family=Secreto')
    expect(probe.matches).toEqual([])
  })

  it('asks for the target type of an untyped chain instead of following it unrestricted', async () => {
    const { raw } = await setup()
    const outcome = expectOutcome(await raw('/Observation?subject.family=Secreto'), { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.diagnostics).toMatch(/subject:Patient\.family/)
  })

  it('is refused a chain into a type its scopes do not let it search', async () => {
    const { raw } = await setup()
    expectOutcome(await raw('/Observation?performer:Practitioner.family=Secreto'), { status: 403, code: 'forbidden' })
  })

  it("finds nothing, and no count, in another patient's compartment", async () => {
    const { get, post, clinic, other } = await setup()
    for (let i = 0; i < 3; i++) await post(makeObservation({ subject: { reference: `Patient/${other.id}` } }))
    const theirs = await get(`/Patient/${other.id}/Observation?_count=2`)
    expect(theirs.matches).toEqual([])
    // A total corrected page by page would have counted their Observations.
    expect(theirs.total === undefined || theirs.total === 0).toBe(true)
    const own = await get(`/Patient/${clinic.patient.id}/Observation`)
    expect(own.matches).toHaveLength(1)
    expect(own.total).toBe(1)
  })

  it('_has finds its own Patient by its Observations and never the other one', async () => {
    const { get, clinic, theirs } = await setup()
    expect((await get('/Patient?_has:Observation:subject:code=8867-4')).matches).toEqual([`Patient/${clinic.patient.id}`])
    expect((await get(`/Patient?_has:Observation:subject:_id=${theirs.id}`)).matches).toEqual([])
  })
})

describe('role escalation through body fields', () => {
  it('keeps the membership role when the sign-in and consent forms carry role, tenant and fhirUser fields', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${clinic.patient.id}`)
    const browser = new Browser(t)
    const { verifier, challenge } = pkce()
    const start = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'launch/patient patient/*.rs user/*.cruds', challenge)))
    const forged = { role: 'super-admin', fhirUser: 'Practitioner/x', fhir_user: 'Practitioner/x', patient: 'other', tenant: 'other-clinic' }
    const signedIn = await browser.post('/oauth2/signin', start, { login: user.email, password: PASSWORD, ...forged })
    let page = signedIn
    if (page.body.includes('action="/oauth2/consent"')) page = await browser.post('/oauth2/consent', page, { decision: 'allow', ...forged })
    const query = redirectQuery(page)
    const res = await exchangeCode(t, { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId, ...forged })
    expect(res.statusCode, res.body).toBe(200)
    const claims = JSON.parse(Buffer.from(String(res.json().access_token).split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>
    expect(claims.role).toBe('patient')
    expect(res.json().patient).toBe(clinic.patient.id)
    expect(claims.fhirUser ?? res.json().fhirUser).not.toBe('Practitioner/x')
    const memberships = await t.services.auth.listMemberships(clinic.tenant.tenantId)
    expect(memberships.find((m) => m.account_id === user.accountId)?.role).toBe('patient')
  })

  it('refuses a physician promoting itself or removing an admin through the membership API', async () => {
    const clinic = await newClinic(t)
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const doctor = await newUser(t, clinic.tenant.tenantId, 'physician', 'Practitioner/d1')
    const admin = await newUser(t, clinic.tenant.tenantId, 'tenant-admin', null)
    const browser = new Browser(t)
    const { verifier, challenge } = pkce()
    const start = await browser.get(authorizeUrl(codeParams(clientId, clinic.aud, 'user/*.cruds', challenge)))
    const query = redirectQuery(await signInAndAllow(browser, start, doctor.email))
    const token = (await exchangeCode(t, { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId })).json().access_token as string
    const promote = await t.app.inject({
      method: 'POST',
      url: `/admin/${clinic.tenant.tenantId}/memberships`,
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify({ account_id: doctor.accountId, role: 'tenant-admin', fhir_user: 'Practitioner/d1' }),
    })
    expect(promote.statusCode).toBe(403)
    const remove = await t.app.inject({ method: 'DELETE', url: `/admin/${clinic.tenant.tenantId}/memberships/${admin.accountId}`, headers: bearer(token) })
    expect(remove.statusCode).toBe(403)
    const roles = new Map((await t.services.auth.listMemberships(clinic.tenant.tenantId)).map((m) => [m.account_id, m.role]))
    expect(roles.get(doctor.accountId)).toBe('physician')
    expect(roles.get(admin.accountId)).toBe('tenant-admin')
  })
})
